"""AWS implementations of the platform seams (boto3; moto server in tests)."""
