from mpp_complaints.settings import ComplaintsSettings
from mpp_shared.service import serve

serve("mpp_complaints.main:app", ComplaintsSettings())
