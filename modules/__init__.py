"""CDK for Terraform (cdktn) constructs of the state stack, one package per cloud."""
