from mpp_documents.settings import DocumentsSettings
from mpp_shared.service import serve

serve("mpp_documents.main:app", DocumentsSettings())
