"""Load and faults on several processes: ``python -m faults`` (see faults/harness.py)."""
