"""Adaptive Cards for Teams: pure builders from plain data (`kit.py` holds the primitives)."""
