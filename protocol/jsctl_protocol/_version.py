"""The protocol version both ends announce in `hello`."""

PROTOCOL_VERSION = 1
