"""The offline preview: the real program under the SDK mock runtime, validated and policy-checked."""
