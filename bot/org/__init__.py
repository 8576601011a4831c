"""The organisation: people and who may do what, the policy (app.yaml), working time, leave,
the org file's import, and what each chat platform told us about people."""
