"""The AWS sandbox: moto server + the staging root applied to it + an ALB data-plane emulator."""
