"""
Incidents: one escalation per incident, phoned level by level until a person acknowledges.

Import what you use from its module (``incidents.policy``, ``incidents.factory``,
``incidents.notifier``); this package module imports nothing, so that a DAG file pays only for
what it imports.
"""
