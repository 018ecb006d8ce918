"""The one Kafka client wrapper: a durable producer, the consumer runner, topic specs."""

from onboarding_runtime.kafka.breaker import CircuitBreaker
from onboarding_runtime.kafka.connection import KafkaAccess, KafkaConnection
from onboarding_runtime.kafka.consumer import (
    BatchHandler,
    ConsumerRunner,
    DeadLetter,
    Failure,
    Handler,
    Prepare,
    Record,
    RetryPolicy,
    Supersedes,
    TopicPartition,
)
from onboarding_runtime.kafka.dead_letter import dead_letter_to, failure_headers
from onboarding_runtime.kafka.errors import (
    BrokerUnavailable,
    PermanentError,
    RetryableError,
    UnavailableError,
)
from onboarding_runtime.kafka.follower import TopicFollower
from onboarding_runtime.kafka.history import read_before
from onboarding_runtime.kafka.lanes import RecordCopy
from onboarding_runtime.kafka.probe import BrokerProbe
from onboarding_runtime.kafka.producer import EventProducer, PublishError
from onboarding_runtime.kafka.topics import TOPICS, TopicSpec, ensure_topics

__all__ = [
    "TOPICS",
    "BatchHandler",
    "BrokerProbe",
    "BrokerUnavailable",
    "CircuitBreaker",
    "ConsumerRunner",
    "DeadLetter",
    "EventProducer",
    "Failure",
    "Handler",
    "KafkaAccess",
    "KafkaConnection",
    "PermanentError",
    "Prepare",
    "PublishError",
    "Record",
    "RecordCopy",
    "RetryPolicy",
    "RetryableError",
    "Supersedes",
    "TopicFollower",
    "TopicPartition",
    "TopicSpec",
    "UnavailableError",
    "dead_letter_to",
    "ensure_topics",
    "failure_headers",
    "read_before",
]
