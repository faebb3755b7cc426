"""Check values of admin-defined custom fields against their definitions."""

import datetime
from typing import Any

from django.utils.translation import gettext as _

from serviceloop.core.errors import Conflict, InvalidInput, ObjectNotFound
from serviceloop.core.models import CustomFieldDefinition

MAX_TEXT = 10_000


def _clean_value(definition: CustomFieldDefinition, value: Any) -> Any:
    field = "custom_fields.%s" % definition.key
    kind = definition.kind
    if value is None or value == "":
        return None
    if kind == CustomFieldDefinition.Kind.TEXT:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise InvalidInput(
                _("%(label)s must be text.") % {"label": definition.label}, field=field
            )
        text = str(value)
        if len(text) > MAX_TEXT:
            raise InvalidInput(
                _("%(label)s is longer than %(max)s characters.")
                % {"label": definition.label, "max": MAX_TEXT},
                field=field,
            )
        return text
    if kind == CustomFieldDefinition.Kind.NUMBER:
        if isinstance(value, bool):
            raise InvalidInput(
                _("%(label)s must be a number.") % {"label": definition.label}, field=field
            )
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise InvalidInput(
                _("%(label)s must be a number.") % {"label": definition.label}, field=field
            ) from None
        if number != number or number in (float("inf"), float("-inf")):
            raise InvalidInput(
                _("%(label)s must be a number.") % {"label": definition.label}, field=field
            )
        return int(number) if number.is_integer() else number
    if kind == CustomFieldDefinition.Kind.CHECKBOX:
        if not isinstance(value, bool):
            raise InvalidInput(
                _("%(label)s must be true or false.") % {"label": definition.label}, field=field
            )
        return value
    if kind == CustomFieldDefinition.Kind.DROPDOWN:
        if value not in definition.options:
            raise InvalidInput(
                _("%(value)r is not an option of %(label)s (%(options)s).")
                % {
                    "value": value,
                    "label": definition.label,
                    "options": ", ".join(map(str, definition.options)),
                },
                field=field,
            )
        return value
    if kind == CustomFieldDefinition.Kind.DATE:
        try:
            return datetime.date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise InvalidInput(
                _("%(label)s must be a date as YYYY-MM-DD.") % {"label": definition.label},
                field=field,
            ) from None
    raise InvalidInput(_("Unknown field kind %(kind)s.") % {"kind": kind}, field=field)


def clean_custom_fields(
    *, entity: str, values: dict[str, Any], existing: dict[str, Any]
) -> dict[str, Any]:
    """Return `existing` updated with `values`, each checked; None or "" clears a field."""
    if not isinstance(values, dict):
        raise InvalidInput(_("custom_fields must be an object."), field="custom_fields")
    definitions = {
        d.key: d for d in CustomFieldDefinition.objects.filter(entity=entity, is_active=True)
    }
    result = dict(existing)
    for key, value in values.items():
        definition = definitions.get(key)
        if definition is None:
            raise InvalidInput(
                _("There is no %(entity)s field %(key)r.") % {"entity": entity, "key": key},
                field="custom_fields.%s" % key,
            )
        cleaned = _clean_value(definition, value)
        if cleaned is None:
            result.pop(key, None)
        else:
            result[key] = cleaned
    return result


def missing_required_fields(*, entity: str, values: dict[str, Any]) -> list[CustomFieldDefinition]:
    return [
        d
        for d in CustomFieldDefinition.objects.filter(entity=entity, is_active=True, required=True)
        if values.get(d.key) in (None, "")
    ]


def _check_definition(kind: str, options: list[Any], key: str, label: str) -> None:
    if kind not in CustomFieldDefinition.Kind.values:
        raise InvalidInput(
            _("kind must be one of: %(kinds)s.")
            % {"kinds": ", ".join(CustomFieldDefinition.Kind.values)},
            field="kind",
        )
    if kind == CustomFieldDefinition.Kind.DROPDOWN and not options:
        raise InvalidInput(_("A dropdown needs at least one option."), field="options")
    if kind != CustomFieldDefinition.Kind.DROPDOWN and options:
        raise InvalidInput(_("Only dropdowns have options."), field="options")
    if not label.strip() or len(label) > 100:
        raise InvalidInput(_("A label of 1 to 100 characters is required."), field="label")
    if not key or len(key) > 60 or not all(c.isalnum() or c in "_-" for c in key):
        raise InvalidInput(_("key must be 1 to 60 letters, digits, '-' or '_'."), field="key")


def _check_web_form(entity: str, shown_on_web_form: bool) -> None:
    if shown_on_web_form and entity != CustomFieldDefinition.Entity.TICKET:
        raise InvalidInput(
            _("Only ticket fields can be asked on the web form."), field="shown_on_web_form"
        )


def create_custom_field(
    *,
    entity: str,
    key: str,
    label: str,
    kind: str,
    options: list[Any] | None = None,
    required: bool = False,
    position: int = 0,
    shown_on_web_form: bool = False,
) -> CustomFieldDefinition:
    """Define a field (settings rights are checked by the caller's service)."""
    if entity not in CustomFieldDefinition.Entity.values:
        raise InvalidInput(_("entity must be ticket or customer."), field="entity")
    options = list(dict.fromkeys(options or []))
    _check_definition(kind, options, key, label)
    _check_web_form(entity, shown_on_web_form)
    if CustomFieldDefinition.objects.filter(entity=entity, key=key).exists():
        raise Conflict(
            _("There is a %(entity)s field %(key)r already.") % {"entity": entity, "key": key},
            field="key",
        )
    return CustomFieldDefinition.objects.create(
        entity=entity,
        key=key,
        label=label.strip(),
        kind=kind,
        options=options,
        required=required,
        position=position,
        shown_on_web_form=shown_on_web_form,
    )


def update_custom_field(
    *,
    field_id: int,
    label: str | None = None,
    options: list[Any] | None = None,
    required: bool | None = None,
    is_active: bool | None = None,
    position: int | None = None,
    shown_on_web_form: bool | None = None,
) -> CustomFieldDefinition:
    definition = CustomFieldDefinition.objects.filter(pk=field_id).first()
    if definition is None:
        raise ObjectNotFound("Custom field", field_id)
    if label is not None:
        definition.label = label.strip()
    if options is not None:
        definition.options = list(dict.fromkeys(options))
    _check_definition(definition.kind, definition.options, definition.key, definition.label)
    if required is not None:
        definition.required = required
    if is_active is not None:
        definition.is_active = is_active
    if position is not None:
        definition.position = position
    if shown_on_web_form is not None:
        _check_web_form(definition.entity, shown_on_web_form)
        definition.shown_on_web_form = shown_on_web_form
    definition.save()
    return definition
