from mpp_shared.settings import ServiceSettings


class DocumentsSettings(ServiceSettings):
    service_name: str = "documents"
    port: int = 8002
