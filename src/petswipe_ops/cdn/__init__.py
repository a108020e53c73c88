"""The edge cache: the seed's cache policies and invalidation, on Varnish or CloudFront."""
