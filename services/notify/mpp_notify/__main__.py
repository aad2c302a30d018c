from mpp_notify.settings import NotifySettings
from mpp_shared.service import serve

serve("mpp_notify.main:app", NotifySettings())
