"""The ``leads`` ops CLI: ``leads_cli.main:cli``. See docs/cli.md."""
