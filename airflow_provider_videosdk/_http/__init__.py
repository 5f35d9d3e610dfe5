"""The HTTP layer under the hook: request policy, transports, connection settings and call-API decisions."""
