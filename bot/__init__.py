"""Cadence: a Slack bot that keeps performance conversations alive all year."""
