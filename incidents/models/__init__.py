"""Major incidents and planned downtime: what the whole hospital is told when a system fails.

An incident gathers the tickets it explains and the people it affects; its updates and its
resolution reach every one of them once. A planned downtime is announced ahead and shown as a
banner while it lasts. Detection raises a possible major incident from a cluster of tickets."""

from incidents.models.downtime import PlannedDowntime
from incidents.models.incident import (
    Affected,
    Incident,
    IncidentAlert,
    IncidentTicket,
    IncidentUpdate,
    RecoveryItem,
)

__all__ = [
    "Affected",
    "Incident",
    "IncidentAlert",
    "IncidentTicket",
    "IncidentUpdate",
    "PlannedDowntime",
    "RecoveryItem",
]
