"""Decisions: deployment options (devices), their monthly costs (costs), use cases scored against them
(usecases), and how robust the answer is (sensitivity)."""
