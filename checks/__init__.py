"""Asset checks: invariants that must hold before a date is published, and quality gates."""
