"""The jsctl daemon: one per user, owning JumpServer auth and live terminal sessions."""

__version__ = "0.1.0"
