"""sandbox/jsctl_sandbox"""
