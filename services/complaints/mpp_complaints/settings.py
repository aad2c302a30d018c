from mpp_shared.settings import ServiceSettings


class ComplaintsSettings(ServiceSettings):
    service_name: str = "complaints"
    port: int = 8003
