"""What the services share at run time: settings pieces, Kafka, Mongo, logging, health."""
