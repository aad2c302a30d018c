from mpp_shared.settings import DEV_SEAL_PRIVATE_KEY, ServiceSettings


class NotifySettings(ServiceSettings):
    service_name: str = "notify"
    port: int = 8004
    # Opens contact details sealed for notify; no other service holds it.
    notify_seal_private_key: str = DEV_SEAL_PRIVATE_KEY

    def _secret_fields(self) -> list[str]:
        return [*super()._secret_fields(), "notify_seal_private_key"]

    # Where escalations of missed complaint deadlines go (the supervisor's desk).
    supervisor_email: str = "pengaduan.supervisor@mpp.kedirikab.go.id"
