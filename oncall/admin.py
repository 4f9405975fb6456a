from django.contrib import admin

from oncall.models import (
    EscalationPolicy,
    EscalationStep,
    Rotation,
    RotationMember,
    RotationOverride,
)


class RotationMemberInline(admin.TabularInline[RotationMember, Rotation]):
    model = RotationMember
    extra = 0
    autocomplete_fields = ["user"]


class RotationOverrideInline(admin.TabularInline[RotationOverride, Rotation]):
    model = RotationOverride
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["user", "starts_at", "ends_at", "reason"]


@admin.register(Rotation)
class RotationAdmin(admin.ModelAdmin[Rotation]):
    list_display = ["team", "starts_on", "handoff_time", "length_days"]
    list_select_related = ["team"]
    inlines = [RotationMemberInline, RotationOverrideInline]


class EscalationStepInline(admin.TabularInline[EscalationStep, EscalationPolicy]):
    model = EscalationStep
    extra = 0
    autocomplete_fields = ["user"]
    fields = ["position", "target", "user", "repage_minutes", "wait_minutes"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin[EscalationPolicy]):
    list_display = ["team", "purpose", "repeat_count"]
    list_filter = ["purpose"]
    list_select_related = ["team"]
    inlines = [EscalationStepInline]
