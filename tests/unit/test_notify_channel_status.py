"""What notify says of its channels: /health/ready names the provider of each
channel or says its messages are only recorded, and the gauge
`mpp.notify.channel.live` reads 1 or 0 for each."""

from __future__ import annotations

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from mpp_notify.channels.registry import build_channels, channel_status, observe_channels
from mpp_notify.settings import NotifySettings
from tests.support.metrics import readings


def test_each_channel_is_live_with_its_provider_or_record_only() -> None:
    channels = build_channels(NotifySettings(smtp_host="smtp.kedirikab.go.id"))
    assert channel_status(channels) == {
        "sms": "record only",
        "whatsapp": "record only",
        "email": "live (smtp)",
    }


def test_the_live_gauge_reads_one_for_a_real_provider_and_zero_otherwise() -> None:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    channels = build_channels(NotifySettings(sms_gateway_url="https://sms.example.go.id/send"))
    observe_channels(channels, provider.get_meter("test"))
    points = {
        (dict(labels)["channel"], dict(labels)["provider"]): value
        for labels, value in readings(reader)["mpp.notify.channel.live"].items()
    }
    assert points == {("sms", "sms_gateway"): 1, ("whatsapp", "log"): 0, ("email", "log"): 0}
