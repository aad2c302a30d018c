from mpp_intake.settings import IntakeSettings
from mpp_shared.service import serve

serve("mpp_intake.main:app", IntakeSettings())
