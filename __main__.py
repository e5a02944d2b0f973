"""Gatehouse: load the stack configuration, then build the planes."""

from components import config, platform

stack = config.load()  # stops here, before any resource, if the config is bad
platform.build(stack)
