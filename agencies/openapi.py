"""The OpenAPI 3.1 document served at /api/v1/openapi.json.

Written by hand next to agencies/api.py; tests/test_api.py validates real
responses against these schemas, so the two cannot silently disagree.
"""

from django.conf import settings

from articles.api import openapi_paths

from .enums import ActionKind, PhoneKind, Status

_STR = {"type": "string"}
_NULLABLE_STR = {"type": ["string", "null"]}
_DATE = {"type": ["string", "null"], "format": "date"}
_URL = {"type": "string", "format": "uri"}
_PAGE_URL = {"type": ["string", "null"], "format": "uri"}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict, required: list[str] | None = None) -> dict:
    return {
        "type": "object",
        "properties": properties,
        "required": list(properties) if required is None else required,
        "additionalProperties": False,
    }


SCHEMAS = {
    "Province": _object({"code": {**_STR, "pattern": "^[0-9]{2}$"}, "name": _STR}),
    "AgencySummary": _object(
        {
            "uscc": {**_STR, "pattern": "^[0-9A-Z]{18}$"},
            "name": _STR,
            "province": _ref("Province"),
            "city": _STR,
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "is_live": {"type": "boolean", "description": "存续或在业"},
            "url": _URL,
            "api_url": _URL,
            "is_sample": {
                "type": "boolean",
                "description": "虚构的演示记录，不是真实机构。",
            },
        }
    ),
    "PhoneLink": _object(
        {
            "number": {**_STR, "description": "号码键（规范写法）"},
            "number_as_reported": {**_STR, "description": "来源中的原始写法"},
            "kind": {"type": "string", "enum": [k.value for k in PhoneKind]},
            "label": _STR,
            "source": _STR,
            "source_url": _STR,
            "reported_on": _DATE,
            "url": _URL,
        }
    ),
    "Client": _object(
        {"name": _STR, "since": _DATE, "until": _DATE, "source_url": _STR},
    ),
    "Action": _object(
        {
            "kind": {"type": "string", "enum": [k.value for k in ActionKind]},
            "kind_label": _STR,
            "authority": _STR,
            "decided_on": _DATE,
            "document_number": _STR,
            "summary": _STR,
            "source_url": _STR,
        }
    ),
    "Phone": _object(
        {
            "number": {**_STR, "description": "常见写法，如 139 0731 0000"},
            "key": {**_STR, "description": "规范号码键，用于 /phone/{key}/"},
            "kind": {"type": "string", "enum": [k.value for k in PhoneKind]},
            "kind_label": _STR,
            "region": {**_STR, "description": "归属地（按号段推断）"},
            "carrier": {**_STR, "description": "原始运营商；可能已携号转网"},
        }
    ),
    "UsccCheck": _object(
        {
            "code": _STR,
            "valid": {"type": "boolean"},
            "message": _STR,
            "expected": {
                **_NULLABLE_STR,
                "description": "校验位不对时，按前 17 位算出的完整代码",
            },
            "found": {"type": "boolean"},
        }
    ),
    "Error": _object(
        {
            "error": _object(
                {
                    "status": {"type": "integer"},
                    "message": _STR,
                    "parameter": _STR,
                },
                required=["status", "message"],
            )
        }
    ),
}
SCHEMAS["AgencyDetail"] = _object(
    {
        **SCHEMAS["AgencySummary"]["properties"],
        "entity_type": _STR,
        "legal_representative": _STR,
        "registered_capital": _STR,
        "registered_capital_wan": {**_NULLABLE_STR, "description": "万元，十进制字符串"},
        "established_on": _DATE,
        "registration_authority": _STR,
        "address": _STR,
        "business_scope": _STR,
        "former_names": {"type": "array", "items": _STR},
        "aliases": {"type": "array", "items": _STR},
        "phones": {"type": "array", "items": _ref("PhoneLink")},
        "clients": {"type": "array", "items": _ref("Client")},
        "actions": {"type": "array", "items": _ref("Action")},
        "source": _STR,
        "source_url": _STR,
        "retrieved_on": _DATE,
        "updated_at": {"type": "string", "format": "date-time"},
    }
)
_LIST = {
    "count": {"type": "integer", "minimum": 0},
    "partial": {
        "type": "boolean",
        "description": (
            "true：名称查询太宽（如“资产管理”），只核对了排名最前的一批候选，"
            "count 是下限，results 只来自这批候选；加上省份或更完整的名称可得到完整结果"
        ),
    },
    "next": _PAGE_URL,
    "previous": _PAGE_URL,
    "results": {"type": "array", "items": _ref("AgencySummary")},
}
SCHEMAS["AgencyList"] = _object(_LIST)
SCHEMAS["SearchResponse"] = _object(
    {
        "query": _STR,
        "kind": {"type": "string", "enum": ["phone", "uscc", "name", "empty"]},
        **_LIST,
        "phone": _ref("Phone"),
        "uscc": _ref("UsccCheck"),
    },
    required=["query", "kind", *_LIST],
)
SCHEMAS["PhoneDetail"] = _object(
    {
        **SCHEMAS["Phone"]["properties"],
        "shared": {"type": "boolean", "description": "多家机构使用同一号码"},
        "count": {"type": "integer", "minimum": 0},
        "agencies": {
            "type": "array",
            "items": _object({**SCHEMAS["AgencySummary"]["properties"], "link": _ref("PhoneLink")}),
        },
    }
)


def _param(name: str, description: str, schema: dict | None = None, where="query") -> dict:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "description": description,
        "schema": schema or _STR,
    }


PAGE_PARAMS = [
    _param(
        "page",
        "页码，从 1 开始（最多 500）",
        {"type": "integer", "minimum": 1, "maximum": 500},
    ),
    _param(
        "page_size",
        "每页条数，默认 20，最多 100",
        {"type": "integer", "minimum": 1, "maximum": 100},
    ),
]
FILTER_PARAMS = [
    _param("province", "省份：代码（43）、名称（湖南省、湖南）、简称（湘）或拼音（hunan）"),
    _param(
        "status",
        "登记状态，可重复或用逗号分隔（存续,在业）",
        {"type": "array", "items": {"type": "string"}},
    ),
]


def _responses(ok_schema: str, *codes: int) -> dict:
    responses = {
        "200": {
            "description": "OK",
            "content": {"application/json": {"schema": _ref(ok_schema)}},
        }
    }
    descriptions = {400: "参数有误", 404: "没有这条记录", 405: "只支持 GET"}
    for code in (*codes, 405):
        responses[str(code)] = {
            "description": descriptions[code],
            "content": {"application/json": {"schema": _ref("Error")}},
        }
    return responses


PATHS = {
    "/api/v1/search": {
        "get": {
            "summary": "一个输入框：号码、统一社会信用代码或名称",
            "description": (
                "先判断输入是电话号码、统一社会信用代码还是名称（kind），再查询。"
                "名称按完全一致、开头一致、包含、曾用名或别名、拼音的顺序排列。"
            ),
            "operationId": "search",
            "parameters": [
                _param("q", "来电号码、公司名称（简繁、拼音、首字母均可）或统一社会信用代码"),
                *FILTER_PARAMS,
                *PAGE_PARAMS,
            ],
            "responses": _responses("SearchResponse", 400, 404),
        }
    },
    "/api/v1/agencies": {
        "get": {
            "summary": "机构列表（可按省份、状态筛选，可按名称查询）",
            "description": (
                "没有 q 时按统一社会信用代码排序；有 q 时与 /api/v1/search 的名称查询相同。"
            ),
            "operationId": "listAgencies",
            "parameters": [_param("q", "名称关键词"), *FILTER_PARAMS, *PAGE_PARAMS],
            "responses": _responses("AgencyList", 400, 404),
        }
    },
    "/api/v1/agencies/{uscc}": {
        "get": {
            "summary": "一家机构的完整记录，含号码、曾用名、委托方、监管记录和来源",
            "operationId": "getAgency",
            "parameters": [_param("uscc", "统一社会信用代码（大小写不限）", where="path")],
            "responses": _responses("AgencyDetail", 400, 404),
        }
    },
    "/api/v1/phones/{key}": {
        "get": {
            "summary": "一个号码：类型、归属地、原始运营商，以及使用它的机构和来源",
            "operationId": "getPhone",
            "parameters": [_param("key", "号码，任意写法；返回中的 key 是规范写法", where="path")],
            "responses": _responses("PhoneDetail", 404),
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "summary": "本文档",
            "operationId": "openapi",
            "responses": {"200": {"description": "OpenAPI 3.1 文档"}},
        }
    },
}


def document() -> dict:
    base = settings.PORTAL_BASE_URL or ""
    articles = openapi_paths()
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "催收机构名录开放接口",
            "version": "1.0.0",
            "description": (
                "只读、免登录、无 Cookie。数据注明来源和日期；示例数据（is_sample）"
                "是虚构的演示记录。登记信息以国家企业信用信息公示系统为准。"
            ),
        },
        "servers": [{"url": base or "/"}],
        "paths": {**PATHS, **articles["paths"]},
        "components": {"schemas": {**SCHEMAS, **articles["components"]["schemas"]}},
    }
