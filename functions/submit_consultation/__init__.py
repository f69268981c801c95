"""The consultation submit function (POST/OPTIONS /consultations)."""
