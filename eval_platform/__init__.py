"""eval_platform: production LLM logs -> adversarial eval corpus -> per-routing-path gap tables."""
