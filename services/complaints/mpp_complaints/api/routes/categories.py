"""The managed list of complaint categories: read by anyone, created or
changed by an admin."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from mpp_complaints.api.deps import Admin
from mpp_complaints.api.schemas import Category, CategoryUpdate
from mpp_complaints.usecases import categories
from mpp_shared.web import PoolDep
from mpp_shared.web.auth import PUBLIC

router = APIRouter(prefix="/v1/categories", tags=["complaint categories"])


@router.get(
    "", response_model=list[Category], dependencies=[PUBLIC], summary="Complaint categories"
)
async def list_categories(pool: PoolDep) -> Any:
    return await categories.list_categories(pool)


@router.put("/{code}", response_model=Category, summary="Create or change a category (admin)")
async def put_category(code: str, body: CategoryUpdate, pool: PoolDep, admin: Admin) -> Any:
    change = categories.CategoryChange(**body.model_dump())
    return await categories.put_category(pool, code, change, admin=admin)
