# Debian 12's python3-cryptography (38) names two type aliases differently from the 40+ releases
# that securesystemslib 1.x imports. Provide the new names so the conformance suite's repository
# simulator can run on Debian's packages alone.
try:
    from cryptography.hazmat.primitives.asymmetric import types as _types

    if not hasattr(_types, "PrivateKeyTypes"):
        _types.PrivateKeyTypes = _types.PRIVATE_KEY_TYPES
    if not hasattr(_types, "PublicKeyTypes"):
        _types.PublicKeyTypes = _types.PUBLIC_KEY_TYPES
    if not hasattr(_types, "CertificateIssuerPublicKeyTypes") and hasattr(
        _types, "CERTIFICATE_ISSUER_PUBLIC_KEY_TYPES"
    ):
        _types.CertificateIssuerPublicKeyTypes = _types.CERTIFICATE_ISSUER_PUBLIC_KEY_TYPES
except ImportError:
    pass
