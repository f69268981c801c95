"""Alert function: the table's stream -> one staff alert per new lead (see ``send_alerts.app``)."""
