"""The ``leads`` ops CLI (contract section 5): ``leads_cli.main:cli``. See docs/cli.md."""
