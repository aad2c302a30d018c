"""Versioned schemas of every event's `data`, one module per stream; every
public model is imported from here (`mpp_shared.events.schemas`), and
importing this package registers every event type.

Privacy rule: no clear NIK, phone number or e-mail on a shared topic. Events
carry ids and masked values; contacts travel only as `contact_sealed`, which
notify alone can open (see mpp_shared.pii.seal_for_notify).

Each stream's events share a base class holding the fields every event of
the stream starts with. pydantic places inherited fields first, so a base
holds only a common leading block: the field order of every model (and so of
the published JSON, its schema and the contract) is the one it always had.
"""

from mpp_shared.events.schemas.applications import (
    ApplicationCompletedV1,
    ApplicationEvent,
    ApplicationIncompleteV1,
    ApplicationRejectedV1,
    ApplicationResubmittedV1,
    ApplicationReturnedV1,
    ApplicationSubmittedV1,
    ApplicationVerifiedV1,
    MissingItem,
    UploadRef,
)
from mpp_shared.events.schemas.citizen import ContactChannel, Language
from mpp_shared.events.schemas.complaints import (
    ComplaintAssignedV1,
    ComplaintClosedV1,
    ComplaintDeadlineExtendedV1,
    ComplaintEscalatedV1,
    ComplaintEvent,
    ComplaintFiledV1,
    ComplaintRejectedV1,
    ComplaintReopenedV1,
    ComplaintRespondedV1,
    ComplaintVerifiedV1,
)
from mpp_shared.events.schemas.documents import (
    DocumentCancelledV1,
    DocumentInProductionV1,
    DocumentInTransitV1,
    DocumentJobEvent,
    DocumentOnHoldV1,
    DocumentPickedUpV1,
    DocumentPickupReminderV1,
    DocumentProducedV1,
    DocumentQueuedV1,
    DocumentReadyForPickupV1,
    DocumentUncollectedV1,
)
from mpp_shared.events.schemas.notifications import (
    NotificationDeadV1,
    NotificationDeliveredV1,
    NotificationEvent,
    NotificationRecordedV1,
)
from mpp_shared.events.schemas.population import (
    PeriodFigures,
    PopulationEvent,
    PopulationFollowUpOverdueV1,
    PopulationKind,
    PopulationPeriodReportedV1,
    PopulationReportedV1,
)
from mpp_shared.events.schemas.signin import CitizenEvent, SignInCodeRequestedV1
from mpp_shared.events.schemas.sla import SlaBreachedV1, SlaEvent, SlaWarningV1

__all__ = [
    "ApplicationCompletedV1",
    "ApplicationEvent",
    "ApplicationIncompleteV1",
    "ApplicationRejectedV1",
    "ApplicationResubmittedV1",
    "ApplicationReturnedV1",
    "ApplicationSubmittedV1",
    "ApplicationVerifiedV1",
    "CitizenEvent",
    "ComplaintAssignedV1",
    "ComplaintClosedV1",
    "ComplaintDeadlineExtendedV1",
    "ComplaintEscalatedV1",
    "ComplaintEvent",
    "ComplaintFiledV1",
    "ComplaintRejectedV1",
    "ComplaintReopenedV1",
    "ComplaintRespondedV1",
    "ComplaintVerifiedV1",
    "ContactChannel",
    "DocumentCancelledV1",
    "DocumentInProductionV1",
    "DocumentInTransitV1",
    "DocumentJobEvent",
    "DocumentOnHoldV1",
    "DocumentPickedUpV1",
    "DocumentPickupReminderV1",
    "DocumentProducedV1",
    "DocumentQueuedV1",
    "DocumentReadyForPickupV1",
    "DocumentUncollectedV1",
    "Language",
    "MissingItem",
    "NotificationDeadV1",
    "NotificationDeliveredV1",
    "NotificationEvent",
    "NotificationRecordedV1",
    "PeriodFigures",
    "PopulationEvent",
    "PopulationFollowUpOverdueV1",
    "PopulationKind",
    "PopulationPeriodReportedV1",
    "PopulationReportedV1",
    "SignInCodeRequestedV1",
    "SlaBreachedV1",
    "SlaEvent",
    "SlaWarningV1",
    "UploadRef",
]
