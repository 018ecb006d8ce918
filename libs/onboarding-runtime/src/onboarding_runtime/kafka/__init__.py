"""The one Kafka client wrapper: a durable producer, the consumer runner, topic specs."""

from onboarding_runtime.kafka.consumer import ConsumerRunner, Handler
from onboarding_runtime.kafka.errors import PermanentError, RetryableError
from onboarding_runtime.kafka.producer import EventProducer, PublishError
from onboarding_runtime.kafka.topics import TOPICS, TopicSpec, ensure_topics

__all__ = [
    "TOPICS",
    "ConsumerRunner",
    "EventProducer",
    "Handler",
    "PermanentError",
    "PublishError",
    "RetryableError",
    "TopicSpec",
    "ensure_topics",
]
