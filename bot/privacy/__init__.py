"""What people may ask of their records, and what the organisation must account for: the
access log, "my data", erasure and retention (README "Security and data handling")."""
