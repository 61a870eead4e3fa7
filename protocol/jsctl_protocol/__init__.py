"""protocol/jsctl_protocol"""
