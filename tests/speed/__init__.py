"""Speed to lead (contract section 8): business hours, SLAs, escalation, report, lead events."""
