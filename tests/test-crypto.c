/* Tests for sb-crypto: TUF key objects, signatures for the three accepted schemes, signers and
 * hashes. The known-answer vectors below were made once with python3-cryptography, the library
 * securesystemslib signs with, so they prove that signatures and key ids interoperate. */
#include "config.h"

#include "core/sb-crypto.h"
#include "state/sb-key-file.h"
#include "state/sb-file-hash.h"
#include "core/sb-error.h"
#include "core/sb-json.h"
#include "sb-test-util.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

/* The message every known-answer signature covers. */
static const char kat_message[] = "{\"_type\":\"timestamp\",\"version\":1}";

/* ed25519: private key bytes 00 01 02 .. 1f. Key id = sha256 over
 * {"keytype":"ed25519","keyval":{"public":"03a1..31b8"},"scheme":"ed25519"} (python hashlib). */
static const char ed_pub[] =
  "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8";

static const char ed_keyid[] =
  "63d00ee3cf4f5c61ad94efa696c68f13b608fe56ecea13fb144a6fd18e9235b9";

static const char ed_sig[] =
  "29f8f7af6ecf5c3456d24e2237c6d9830ecfa8e652875b22ed64297848c5bd2087129746166c3c0618725acd"
  "3de80068cf13e3b45809b8aae26e9358b141a400";

static const char ed_priv_pem[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n"
  "-----END PRIVATE KEY-----\n";

static const char ec_pub_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEodC244aQw20JM8FbiEUsCor7LH+3\n"
  "PZjpk5Tjrs2+W02qJik6hDpChTWgDJ6mgju4T+mEb1nGkUNgbRQNSdOrfQ==\n"
  "-----END PUBLIC KEY-----\n";

static const char ec_priv_pem[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgMkS6JjllZmt7CA10\n"
  "iviecH//oEzVZBIL59jzJmrP3+2hRANCAASh0LbjhpDDbQkzwVuIRSwKivssf7c9\n"
  "mOmTlOOuzb5bTaomKTqEOkKFNaAMnqaCO7hP6YRvWcaRQ2BtFA1J06t9\n"
  "-----END PRIVATE KEY-----\n";

static const char ec_sig[] =
  "3046022100af1a63a2016186839e1f99404f7acbe49d68151d35e72addbecf49e4d2e34d040221009dd1727d"
  "891b707c0e268dffc309bfef4c4203ee2bfd40e90bbd3babfb04ece7";

static const char ec_keyid[] =
  "f2e7716fd41891f70ef290cfdd6efeaa43d9aefb7e134dd5b8329264edcce2b6";

static const char rsa_pub_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxxjGNehVH8xx+tx5Xnrm\n"
  "CVDwyah3T8faV3PJTadieqvs0VboKuMZpFFlYS2EMohU0ynkuy+DdQjvNkR1hiUC\n"
  "0KQkBI5bID/jK5b3X+AjFHyaymAcrcKVbHb0ozQXk82yX2KqH4IQ2yQE0mZe0d1n\n"
  "mQeBbPXObwRJRT7pRJbkykqzwMOmB6aQNlDZ8IKRdV331MiPxKXDRDt87QAvTUth\n"
  "jKVo3YWLQ/ySqY8N+FnUoJWDHR0kTGs6fR84s8m59VeNRqKP+B3X43a2+mtTAasI\n"
  "jmw7wtKh3pSqxThYvvi2jRyEcocNQ+g5cvPpxIPnsQoZTGgfKYz9ZyXzaChb1DM2\n"
  "twIDAQAB\n"
  "-----END PUBLIC KEY-----\n";

static const char rsa_sig[] =
  "ace9885415f3b9682aa5d96c18cd8421779846e2433902869957b5891139ddfc7e380f39be1860a257fa98c1"
  "b044b6fad399baef08ba1ec8cfdabf4a2ff6c41218c997777d398cd726faeb1b34008478b815fac5a3b25c5c"
  "7d31b317d99bc4b09932d29b1a4dbbca2febae9e97058d2cd2448ec167c07cd1564cbf554ec1ed1cf9e26ce4"
  "e18b950a8b5525fc6449d33bc6b69bb2fb36fecd769993f9d47e2750aca11192eb38a069faab976504bb0954"
  "01f1f05cae1b6c7f1ef50259b5844359e832a42817ec6150f427094cb7d1f8fca50830307a14a3f6b3ba927c"
  "5524ca4c3ab503bd4ceab01d42e2ccb43ffb2132867f7c51f600603b22611dfb523ecf95";

static const char rsa_sig_maxsalt[] =
  "06d4ba0fc449a4581d509d8817733b1e2f97f906a8cac7a523577d54a649e051f219c9d9f5903fe988d61856"
  "6c2bb949498d11678f0c9cf1bfe4ff499e178bb3ffcb04acb6bb8011d540fc1f50a5d253d56796f587a50139"
  "06d75103f47ab08804aef8250193fd975166e7740799a23b4de2119b119ea7dbf2e4dd2674378a2078affd07"
  "237ec960436b7a2fd5cb18b7259328c4aa09d9ae7d84a7cebb7ff89f1ab19f95ba441c000022d0a01b6e1453"
  "a0d3485d55c022d804d1c35b3c2004834fd767469bb987f8cd925b0eb79230016a3aa503b1866449e1aa6620"
  "37046b713a8b45822c511826e26f6481bb283230041d03085308083b05e61626232a6a7b";

static const char rsa_keyid[] =
  "af9d065885a23371bcc2252c24fc707c60f1b2f49688f67019b29732697a4fd0";


/* Key objects that are refused (made once with python3-cryptography and openssl). */
static const char rsa1024_pub_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDypO1+nUB/nAWyeFfQhMlzmd4c\n"
  "LVPSGcno3ueLg8aj84vgWjB+GeDvtOZ7ll88hZZnZSvKPuItItTJq8ak8fKLv2ja\n"
  "XXheD5mRULWiadkyLQAms/9khqTON9HXARWsIzjJlrbMa1UOjO3/tRm2osqy8g9X\n"
  "0pvQOD7Z0noV/b2mZQIDAQAB\n"
  "-----END PUBLIC KEY-----\n";

static const char rsa8192_pub_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MIIEIjANBgkqhkiG9w0BAQEFAAOCBA8AMIIECgKCBAEA291kynqE68eGT6n2NCFt\n"
  "Gag3KMfGLWjuBp9Nf1sTGBbl6LSiRUNLR5yivFJCHBRprR1ZNJFZqD3RCwFgZyEw\n"
  "+DTuL+d4HXzqzIg53NsGPV324+O+iK3nY9fzTXG4l2Z93UpK2TwcTylsZiCnM8On\n"
  "h1Y9XkTubxaUecAksblReybZVyoiQ+a0IYmUa8P+RVQYbxIIzBw6uC+xJ2VwGjz4\n"
  "3JNehvGQsEigBuTGBCwan21P43nO9+75sy/rVGGdL3C1ykD9HiqhKtzxPvxInei2\n"
  "B3vhAJ3qOia+AHdNQ9bAM8EqhedON+bGpIB6cpXg/a61PVtvpbpyAGud+qLEv4Gv\n"
  "/IbIy/TP1h3DykBuMAg941StzdSd5+weZWmvrAjqFpLkUA+VYsEoBsYGsSChXdF2\n"
  "UEJZIKxa4RZE8dXOjR773a2BRlFp/ke2RTOaaXScOWUsYJpmeLDGjlLNMXHsMaGe\n"
  "Kp8CYUgAN8FxyysFvOOwP5QAuGLJ8ovj985LP9ali8XVkKOZtFyIz+MSkD3Nmxu4\n"
  "rOBDsj7dewHKfcyR29tAdCIQ8+7htPcXqHqMfrOytKIRfjDKAvEzKEkDsjwYNd6v\n"
  "6e7Pgt8S+oDqHIyQry9a2a0zswtBDh9f+e3e2jhi2ZnXQ+HJsKJeupoL73V/md0v\n"
  "DmlJJxFrsDLNk47ZZULYFMw3ifYo8JxtXjapwG5jkVsmWMGxYbUynCMAvt0MTxmB\n"
  "EsC3ckSmmMzDsJlh7/ZYfzmxt/xOZO3fBrzO0vfITSf8kzaf4qQ5AlXmtUyOLq28\n"
  "KbxcAq8m9qVkn1Xexa4jxOihj+ip2NOF0T30O6U83byIesAGEeIB3TTrE4mCfqb9\n"
  "IlFDkyVj0VuBFtYofBieaJoDwr1/Hvnbss6tcgIAesRnQNQDtBYX6lj1dsyZLBlR\n"
  "qj2HaIvqXLpdsuDPmIYdw52lOyY5peOCEPTv/vlNFnugFLJstY02clkITzqdComN\n"
  "x3suVA7DExSoJ6Q6cRLNEjnsksNXn5iNHBcZLqyjQQzG72Hkz8W8MAbmHGtnojDH\n"
  "FUXX7q/yzjBBsPuddvSaO+QhbARVLVu6UwlAetbi4baksLb1dUn1b4nBkSiu7o4o\n"
  "5wkN3yqgtLd55E+7DsW6QR+dRAvd12TATq6A3S+TPUSCKuuQnukVDTRBn94zkO9N\n"
  "rhNKYL1sWbu3/iO2nibJ33hmlOa+effQhWGLDYV0Y/wgbft20DOqii1bGrxiUn3e\n"
  "ETApTx0MiNbys9yZZ5cV3H3pqmAulI6SuSBgxQULb4DsfVvmzOj7f3PTmCBWMJ0t\n"
  "6ogPmoZJYT42Mxc+VzHMMYGl+c0bbQ9k+6K8vGntkh+VRHxhbzxXLXtWf6peBLyq\n"
  "PQIDAQAB\n"
  "-----END PUBLIC KEY-----\n";

static const char p384_pub_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEiJSannNulZgZ8QxvSAxOojdzrAXgjtP1\n"
  "rzXs26o9xTQM2EM2CtorJz4T6SqvHIRUD003yxXKQppFbZc9GdhPr4O4T31Exgb2\n"
  "eKFyqtQkijOoN+UzoZyXl08xGbSEulvK\n"
  "-----END PUBLIC KEY-----\n";

static const char p384_priv_pem[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDB+3np39hnXCri/6k6h\n"
  "vCzNkz1QHE1sTBEJQGw4u1ycMOFc+RDmqBNy5mJPxOGB3r2hZANiAATECOXbg00F\n"
  "A0qB31JR120EZDj4UkoCbPR0VovqzbfU4mhlbmEjWTm5aSIEo/LUcAo7XFYcKK2q\n"
  "mYk0/C8MpcVjAOAPEvv3idtpj/J8ID5yn/qw4PnHXNe5VWDF0Tq5RJA=\n"
  "-----END PRIVATE KEY-----\n";

static const char ed448_priv_pem[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MEcCAQAwBQYDK2VxBDsEOVKNezqmqOZjbf/AC6PwXeCBSh2v+bfmdZT1wvibnC96\n"
  "wFTyqRq5YQAclrTL10I4ZOQ0pxDOPp7cDw==\n"
  "-----END PRIVATE KEY-----\n";

static const char rsa1024_priv_pem[] =
  "-----BEGIN PRIVATE KEY-----\n"
  "MIICdwIBADANBgkqhkiG9w0BAQEFAASCAmEwggJdAgEAAoGBAL53SfrT7cq/vZlc\n"
  "usZyDLOYJs/ig89c8aAENxBQ/RO/0dvj3W0RG/xLwSWHpxH9nNpWtJPU37vsDWnM\n"
  "ALZwHJOS5x+ezlbKDuB/RIIPdI76/ryaU5fTCO0+v8pCPZr0LYjJmxTV6J7f44Um\n"
  "OCq7L0utvQ1/R3hQmGbC6d2teRiBAgMBAAECgYAUgOTu4oeTruZrLwdQO5DQeI2d\n"
  "DWZhGUFNl4aR9BX6XUjrIfGBPzlDBKirMJo0npeXDYRs8ZqQMU4UWIivGwyISsxp\n"
  "/v4eR7FrJ88nqggzOo7oMwi/ftIrQdtY1Dgc4lntvDROkvyxGnfQMvhG56e4z531\n"
  "LKXTiZL3V6vYEpH5AQJBAOesS6Sg2CkXRKNSvXtJP5yRavomcZY2RZ7qEpM6C5dU\n"
  "K3mrb+AvjVyCq7lrn2GI8VqfiA5xrjgcHHuXwWBxpHECQQDSd0nbVIdhcNjP2Yw4\n"
  "Jujw+4ijTISPtoexAzth6FdtuqB5MS99iHEDU7CAfDYB2bekCs4ZrONWHiFTEhxb\n"
  "wn0RAkEAmFrTiBmK7kLyDaJNH/XE0pdDTezYSBu63046Fv5WPxfIW4Rl134OLed1\n"
  "PURMlVz0tE8zr6QNGbNK+/CJ6H3z0QJBAJ3MhJqm8O40/sowMTq0qbhsz1CogUeD\n"
  "Mo+cfbx1yH9kCwdywkmbsCgvakmbV57hjxe2ZjrH7pdV9eRj0tFVrBECQFsFuf4W\n"
  "5gXEcov8mWSUv2APWFhG8Sr8UfzDH20X1mmii8P/TwN5MJJSbD5NnCKBKJ+fZjet\n"
  "EyZq4VcbFXyxMyQ=\n"
  "-----END PRIVATE KEY-----\n";

static const char rsa2048_encrypted_pem[] =
  "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
  "MIIFNTBfBgkqhkiG9w0BBQ0wUjAxBgkqhkiG9w0BBQwwJAQQ687vl1ZxwW+zQXLG\n"
  "HwU08AICCAAwDAYIKoZIhvcNAgkFADAdBglghkgBZQMEASoEEM+4M683MpsoFgXb\n"
  "WzhDNugEggTQXb1Gl0bKYPjfX7I9mkXV2EOQcNMxGSDqqMUceyzBbMcgxuP0BuvO\n"
  "TWsSuAu1A1v9hJOR/vAjti+7OEe89mdbx31UAcWQwXBBDPCZ5BLeSbqCv2fiB6NP\n"
  "aZlo6cZNtjYD2XN6pjYdEemloqVTByyBCpMU+jreEpCKHwx3SDpseakaIcV+1xX1\n"
  "nz/dReoC0XYR18apPr+ywMw+uVaNIj6N6QFRjnyichxZl5Zax30lEKxDKopHurR9\n"
  "/gCVDNh+8y5+e2k82kGREurgqqWgnvsJxFNq5O4sx4ulDfSivc9VZGv0JSaEBczh\n"
  "nhys4Zg0tIUZ+ZghYqHOUgZ8bV5cLE8GLNu3mOsLskWhYfJwHpFnYAMB35P/Ejjt\n"
  "GSsenTE7MvIfhrBlnF59IkLVUY7Zb0Dx4xr3dQsbTZmTOG9VD0azOpkRLPzzLK0j\n"
  "buiF0l7An9J/gz2SEIrmzD/8Iajs/SovMOa/zBnN3jgSBdFeUZj8kEc5voiM5345\n"
  "qc04Nhg57IucF9+eiOCfR5o4RTfa3yd5PdzMi50sKchs2QZeVgbp+d2epzmvU5UH\n"
  "7SpERr3CuOz6M1Z+CXqsqckWp3FpY6hpXOLhH98AgtpPJPcrKSaorPFWZ9CS836i\n"
  "UJSoDsSwR+c2Rsyhv2bV5Y9cwZ3IOoL1Zebk1XVN6L9z1duBVLZbJcakYNqDV6EI\n"
  "XaXm0nJ9/257iQlhYcYlv/vZR4+Rif3jy9DC0rP+Xhi2PqJwUDV9GNTcnDHXq2yy\n"
  "UFYn+yh6viiW6l+tYsIg0mWSgnqhHUq39tIAToZGmO+mNtqUfKP+P4RisvAWXjNK\n"
  "dnBXsgbccReO0WjXej7BpXx2QUhkQy1ttOXbI07QbD9i9Hmrgrv7PM+eDo4uiWSR\n"
  "IvARXCwJPqPKYgkHTOch5Qyr8EL7vNgwNYOINV4I6QwFexOxZFR+bcsaYUrlDonU\n"
  "ImwGUUanP3Ql/K31chRnqgNWFl0MUWVnAYTITm2ZMZrzYVnEWKfAJMK6wE5ElPkM\n"
  "eVNpfpInZFdx/iAySKQXTW9HwMq5Bydg6HiVKukb8os778ZuRxvdDkAdmHuDwlxl\n"
  "/KVp+KcD9kWzPkzj7+HuwTq0W92uCTKJYFYty7iHVSVp7vV0RnUHqIx+a6F/djzq\n"
  "t26Vm2J/VwZES3sQfMz/AFFZjeQfvWn8hCSP3v2gT1XpwLhC0CNYvIL1YmJFw7P9\n"
  "JLvVzKnYNdqiehnIip8e03SaWuPo3MZ4FVgyWy/Z+SUx20lfJEW3sftYzLtRkBby\n"
  "jIdoyOTuNyrjXcSSwMbJ837j3LkBCAGqG8CZVgcloxtkGdzwI+WrYHEv7oMS1Fmz\n"
  "EFiJKfoVVdn8z3X+I2ybWGKfqGuAxluNn/9vnHcq2lyB/t1r8eeEOaiC+htWIobh\n"
  "nN/ClEx6laT/XE75ep7PXmFEUH01PVYfW5u2eOUEXDM0nnhbboHmgNBJOOHONJW6\n"
  "3fcZAKKLh4QDHH/ZIraiPOrzVL1LCnWvspTPvt+fK5EItqAjwR4/UwLTT9gPw+U+\n"
  "eIExxwyTXUQKfakTSIbCS0Mu3Z9Neo8BTYesv+QfFVeK18BjX6EmuZnQNz+Jteb0\n"
  "nlbq8/N+pqbqwCr6iL7iJNkEjxMVBznHxShLk4qlXnSPoKlNFA9AYfc=\n"
  "-----END ENCRYPTED PRIVATE KEY-----\n";

static const char rsa_pss_oid_pub_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MIIBIDALBgkqhkiG9w0BAQoDggEPADCCAQoCggEBAMsjuq9OBnWHtpfqcCMXhprb\n"
  "4t4Uc82jku3HIJBBO4TTsrqRjz72jbLxXFdfJDkIOkraWB6WKrADOs9XvDDWtz50\n"
  "OcybcDsPNEC3S2herPAnyLPDJkViO46/2HUyTwiPT2L0XbXz3OWK/WzKfWOcbcpP\n"
  "SDvg1P+0XP9oATUs5YcIbK2PNlC/lx6DIj7OhAikGqjktvBSWPtdCZOB0qG27e3c\n"
  "PY8CEcRirm1Y74EyTMSqmCiRPMJkTyqHquC4OqfnknJp2oRY7/kDmNDOkvHmSwoa\n"
  "ONvhTyfVD5V8gwtVUjB2Zuenx66EsHYHhWXR8Ww69ffb7YHAvNZF4e8tgWNT1osC\n"
  "AwEAAQ==\n"
  "-----END PUBLIC KEY-----\n";

static const char ec_off_curve_pub_pem[] =
  "-----BEGIN PUBLIC KEY-----\n"
  "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEodC244aQw20JM8FbiEUsCor7LH+3\n"
  "PZjpk5Tjrs2+W02qJik6hDpChTWgDJ6mgju4T+mEb1nGkUNgbRQNSdOrfA==\n"
  "-----END PUBLIC KEY-----\n";


typedef struct {
  char *dir;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  f->dir = sb_test_make_tmpdir ();
}

static void
teardown (Fixture *f, gconstpointer data)
{
  sb_test_rm_rf (f->dir);
  g_free (f->dir);
}

static JsonNode *
key_object (const char *keytype, const char *scheme, const char *public)
{
  g_autoptr (JsonObject) keyval = json_object_new ();
  json_object_set_string_member (keyval, "public", public);
  g_autoptr (JsonObject) obj = json_object_new ();
  json_object_set_string_member (obj, "keytype", keytype);
  json_object_set_string_member (obj, "scheme", scheme);
  json_object_set_object_member (obj, "keyval", g_steal_pointer (&keyval));
  return json_node_init_object (json_node_alloc (), obj);
}

static SbKey *
load_key (const char *keytype, const char *scheme, const char *public)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) node = key_object (keytype, scheme, public);
  SbKey *key = sb_key_new_from_json (node, &error);
  g_assert_no_error (error);
  g_assert_nonnull (key);
  return key;
}

static void
assert_key_refused (JsonNode *node, SbErrorCode code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbKey) key = sb_key_new_from_json (node, &error);
  g_assert_null (key);
  g_assert_error (error, SB_ERROR, (int) code);
}

static void
assert_public_refused (const char *keytype, const char *scheme, const char *public,
                       SbErrorCode code)
{
  g_autoptr (JsonNode) node = key_object (keytype, scheme, public);
  assert_key_refused (node, code);
}

static void
assert_verifies (SbKey *key, const char *msg, const char *sig)
{
  g_autoptr (GError) error = NULL;
  g_assert_true (sb_key_verify (key, (const guint8 *) msg, strlen (msg), sig, &error));
  g_assert_no_error (error);
}

static void
assert_bad_signature (SbKey *key, const char *msg, const char *sig)
{
  g_autoptr (GError) error = NULL;
  g_assert_false (sb_key_verify (key, (const guint8 *) msg, strlen (msg), sig, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_SIGNATURE);
}

/* @hex with the lowest bit of byte @at flipped. */
static char *
flip_hex (const char *hex, gsize at)
{
  char *out = g_strdup (hex);
  int v = g_ascii_xdigit_value (out[2 * at + 1]) ^ 1;
  out[2 * at + 1] = "0123456789abcdef"[v];
  return out;
}

/* ---- known answers from python3-cryptography ---- */

static void
test_kat_ed25519 (Fixture *f, gconstpointer data)
{
  g_autoptr (SbKey) key = load_key ("ed25519", "ed25519", ed_pub);
  g_assert_cmpint (sb_key_get_key_type (key), ==, SB_KEY_TYPE_ED25519);
  g_assert_cmpstr (sb_key_get_keyid (key), ==, ed_keyid);
  assert_verifies (key, kat_message, ed_sig);
  assert_bad_signature (key, "{\"_type\":\"timestamp\",\"version\":2}", ed_sig);
  g_autofree char *flipped = flip_hex (ed_sig, 10);
  assert_bad_signature (key, kat_message, flipped);

  /* securesystemslib decodes hex with bytes.fromhex, which takes either case. */
  g_autofree char *upper = g_ascii_strup (ed_sig, -1);
  assert_verifies (key, kat_message, upper);
}

static void
test_kat_ecdsa (Fixture *f, gconstpointer data)
{
  g_autoptr (SbKey) key = load_key ("ecdsa", "ecdsa-sha2-nistp256", ec_pub_pem);
  g_assert_cmpint (sb_key_get_key_type (key), ==, SB_KEY_TYPE_ECDSA);
  g_assert_cmpstr (sb_key_get_keyid (key), ==, ec_keyid);
  assert_verifies (key, kat_message, ec_sig);
  assert_bad_signature (key, "{\"_type\":\"timestamp\",\"version\":2}", ec_sig);
  g_autofree char *flipped = flip_hex (ec_sig, 20);
  assert_bad_signature (key, kat_message, flipped);

  /* The older keytype spelling names the same key (its key id differs: keytype is hashed). */
  g_autoptr (SbKey) legacy = load_key ("ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256", ec_pub_pem);
  g_assert_cmpint (sb_key_get_key_type (legacy), ==, SB_KEY_TYPE_ECDSA);
  g_assert_cmpstr (sb_key_get_keyid (legacy), !=, ec_keyid);
  assert_verifies (legacy, kat_message, ec_sig);
}

static void
test_kat_rsa_pss (Fixture *f, gconstpointer data)
{
  g_autoptr (SbKey) key = load_key ("rsa", "rsassa-pss-sha256", rsa_pub_pem);
  g_assert_cmpint (sb_key_get_key_type (key), ==, SB_KEY_TYPE_RSA);
  g_assert_cmpstr (sb_key_get_keyid (key), ==, rsa_keyid);
  /* A digest-length salt (securesystemslib's signer) and the maximum salt (other signers) both
   * verify: the verifier recovers the salt length, as PSS.AUTO does. */
  assert_verifies (key, kat_message, rsa_sig);
  assert_verifies (key, kat_message, rsa_sig_maxsalt);
  assert_bad_signature (key, "{\"_type\":\"timestamp\",\"version\":2}", rsa_sig);
  g_autofree char *flipped = flip_hex (rsa_sig, 100);
  assert_bad_signature (key, kat_message, flipped);
}

static void
test_kat_signers_match_python (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  /* ed25519 signatures are deterministic: the same key signs the same bytes as python does. */
  g_autoptr (SbSigner) ed = sb_signer_new_from_pem (ed_priv_pem, strlen (ed_priv_pem), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_key_get_keyid (sb_signer_get_public (ed)), ==, ed_keyid);
  g_autofree char *sig = sb_signer_sign (ed, (const guint8 *) kat_message, strlen (kat_message),
                                         &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sig, ==, ed_sig);

  /* The public key object is written as securesystemslib writes it, so the key id agrees. */
  g_autoptr (SbSigner) ec = sb_signer_new_from_pem (ec_priv_pem, strlen (ec_priv_pem), &error);
  g_assert_no_error (error);
  SbKey *ec_public = sb_signer_get_public (ec);
  g_assert_cmpstr (sb_key_get_keyid (ec_public), ==, ec_keyid);
  g_autoptr (JsonNode) node = sb_key_to_json (ec_public);
  g_autoptr (GBytes) canonical = sb_json_canonical (node, &error);
  g_assert_no_error (error);
  g_autoptr (GString) expected = g_string_new ("{\"keytype\":\"ecdsa\",\"keyval\":{\"public\":\"");
  g_string_append (expected, ec_pub_pem);
  g_string_append (expected, "\"},\"scheme\":\"ecdsa-sha2-nistp256\"}");
  g_assert_cmpmem (g_bytes_get_data (canonical, NULL), g_bytes_get_size (canonical),
                   expected->str, expected->len);
}

/* ---- key objects ---- */

static void
test_keyid_ignores_extra_fields (Fixture *f, gconstpointer data)
{
  /* Older securesystemslib adds "keyid_hash_algorithms"; the default key id leaves it out, and
   * the key object keeps it for re-encoding. */
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_strdup_printf (
      "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyid_hash_algorithms\":"
      "[\"sha256\",\"sha512\"],\"keyval\":{\"public\":\"%s\"}}",
      ed_pub);
  g_autoptr (JsonNode) node = sb_json_parse ((const guint8 *) text, strlen (text), &error);
  g_assert_no_error (error);
  g_autoptr (SbKey) key = sb_key_new_from_json (node, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_key_get_keyid (key), ==, ed_keyid);
  g_autoptr (JsonNode) back = sb_key_to_json (key);
  g_assert_true (json_object_has_member (json_node_get_object (back), "keyid_hash_algorithms"));

  /* Uppercase hex is the same public key, but a different key object, so a different id. */
  g_autofree char *upper = g_ascii_strup (ed_pub, -1);
  g_autoptr (SbKey) key_upper = load_key ("ed25519", "ed25519", upper);
  g_assert_cmpstr (sb_key_get_keyid (key_upper), !=, ed_keyid);
  assert_verifies (key_upper, kat_message, ed_sig);
}

static void
test_key_refuse_malformed_objects (Fixture *f, gconstpointer data)
{
  static const char *const docs[] = {
    "[]",
    "\"ed25519\"",
    "{}",
    "{\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"00\"}}",
    "{\"keytype\":1,\"scheme\":\"ed25519\",\"keyval\":{\"public\":\"00\"}}",
    "{\"keytype\":\"ed25519\",\"keyval\":{\"public\":\"00\"}}",
    "{\"keytype\":\"ed25519\",\"scheme\":null,\"keyval\":{\"public\":\"00\"}}",
    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\"}",
    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":\"00\"}",
    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{}}",
    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":[]}}",
    "{\"keytype\":\"ed25519\",\"scheme\":\"ed25519\",\"keyval\":{\"public\":12}}",
  };
  for (gsize i = 0; i < G_N_ELEMENTS (docs); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (JsonNode) node = sb_json_parse ((const guint8 *) docs[i], strlen (docs[i]),
                                                 &error);
      g_assert_no_error (error);
      assert_key_refused (node, SB_ERROR_PARSE);
    }
}

static void
test_key_refuse_unsupported_schemes (Fixture *f, gconstpointer data)
{
  static const char *const pairs[][2] = {
    { "rsa", "rsassa-pss-sha512" },
    { "rsa", "rsa-pkcs1v15-sha256" },
    { "ed25519", "ecdsa-sha2-nistp256" },
    { "ecdsa", "ecdsa-sha2-nistp384" },
    { "ecdsa", "ed25519" },
    { "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384" },
    { "RSA", "rsassa-pss-sha256" },
    { "sphincs", "sphincs-shake-128s" },
    { "", "" },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (pairs); i++)
    assert_public_refused (pairs[i][0], pairs[i][1], ed_pub, SB_ERROR_UNSUPPORTED);
}

static void
test_key_refuse_bad_public_values (Fixture *f, gconstpointer data)
{
  /* ed25519: exactly 32 bytes of hex. */
  g_autofree char *short_hex = g_strndup (ed_pub, 62);
  g_autofree char *odd_hex = g_strndup (ed_pub, 63);
  g_autofree char *long_hex = g_strconcat (ed_pub, "00", NULL);
  g_autofree char *bad_digit = g_strdup (ed_pub);
  bad_digit[5] = 'g';
  g_autofree char *spaced = g_strdup (ed_pub);
  spaced[10] = ' ';
  const char *ed_bad[] = { "", short_hex, odd_hex, long_hex, bad_digit, spaced, ec_pub_pem };
  for (gsize i = 0; i < G_N_ELEMENTS (ed_bad); i++)
    assert_public_refused ("ed25519", "ed25519", ed_bad[i], SB_ERROR_PARSE);

  /* PEM: garbage, truncated, a private key, a key of another kind or curve. */
  g_autofree char *truncated = g_strndup (rsa_pub_pem, strlen (rsa_pub_pem) / 2);
  g_autofree char *bad_base64 = g_strdup (rsa_pub_pem);
  bad_base64[40] = '*';
  g_autofree char *no_footer = g_strndup (rsa_pub_pem, strlen (rsa_pub_pem) - 26);
  const char *pem_bad[] = {
    "", "not a key", ed_pub, truncated, bad_base64, no_footer,
    "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n",
    "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
    rsa1024_priv_pem, ec_pub_pem, rsa_pss_oid_pub_pem,
  };
  for (gsize i = 0; i < G_N_ELEMENTS (pem_bad); i++)
    assert_public_refused ("rsa", "rsassa-pss-sha256", pem_bad[i], SB_ERROR_PARSE);

  const char *ec_bad[] = { "", rsa_pub_pem, p384_pub_pem, ec_off_curve_pub_pem, ed_priv_pem };
  for (gsize i = 0; i < G_N_ELEMENTS (ec_bad); i++)
    assert_public_refused ("ecdsa", "ecdsa-sha2-nistp256", ec_bad[i], SB_ERROR_PARSE);

  /* A hostile megabyte is refused before it reaches OpenSSL. */
  g_autoptr (GString) huge = g_string_new ("-----BEGIN PUBLIC KEY-----\n");
  while (huge->len < 1 << 20)
    g_string_append (huge, "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB\n");
  g_string_append (huge, "-----END PUBLIC KEY-----\n");
  assert_public_refused ("rsa", "rsassa-pss-sha256", huge->str, SB_ERROR_PARSE);
}

static void
test_key_refuse_rsa_sizes (Fixture *f, gconstpointer data)
{
  assert_public_refused ("rsa", "rsassa-pss-sha256", rsa1024_pub_pem, SB_ERROR_UNSUPPORTED);
  assert_public_refused ("rsa", "rsassa-pss-sha256", rsa8192_pub_pem, SB_ERROR_UNSUPPORTED);
}

/* ---- verification of hostile signatures ---- */

static void
test_verify_refuse_malformed_signatures (Fixture *f, gconstpointer data)
{
  g_autoptr (SbKey) ed = load_key ("ed25519", "ed25519", ed_pub);
  g_autoptr (SbKey) ec = load_key ("ecdsa", "ecdsa-sha2-nistp256", ec_pub_pem);
  g_autoptr (SbKey) rsa = load_key ("rsa", "rsassa-pss-sha256", rsa_pub_pem);
  SbKey *keys[] = { ed, ec, rsa };

  g_autofree char *huge = g_strnfill (1 << 20, 'a');
  g_autofree char *ed_short = g_strndup (ed_sig, strlen (ed_sig) - 2);
  g_autofree char *ed_long = g_strconcat (ed_sig, "00", NULL);
  g_autofree char *ec_trailing = g_strconcat (ec_sig, "00", NULL);
  g_autofree char *rsa_short = g_strndup (rsa_sig, strlen (rsa_sig) - 2);
  g_autofree char *rsa_long = g_strconcat ("00", rsa_sig, NULL);
  g_autofree char *zeros64 = g_strnfill (128, '0');
  g_autofree char *zeros256 = g_strnfill (512, '0');
  g_autofree char *spaced = g_strdup (ed_sig);
  spaced[4] = ' ';
  const char *sigs[] = {
    "", "0", "00", "zz", "0g", "abc", huge, ed_short, ed_long, ec_trailing, rsa_short, rsa_long,
    zeros64, zeros256, spaced, " ", "3006020101020101", "30060201000201000000",
    ed_sig, ec_sig, rsa_sig, /* each is refused by the two keys that did not make it */
  };
  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
    for (gsize i = 0; i < G_N_ELEMENTS (sigs); i++)
      {
        if ((keys[k] == ed && sigs[i] == ed_sig) || (keys[k] == ec && sigs[i] == ec_sig)
            || (keys[k] == rsa && sigs[i] == rsa_sig))
          continue;
        assert_bad_signature (keys[k], kat_message, sigs[i]);
      }

  g_autoptr (GError) error = NULL;
  g_assert_false (sb_key_verify (ed, (const guint8 *) kat_message, strlen (kat_message), NULL,
                                 &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_BAD_SIGNATURE);
}

static guint8 *
decode_hex (const char *hex, gsize *len)
{
  *len = strlen (hex) / 2;
  guint8 *out = g_malloc (*len);
  for (gsize i = 0; i < *len; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4
                       | g_ascii_xdigit_value (hex[2 * i + 1]));
  return out;
}

static char *
encode_hex (const guint8 *data, gsize len)
{
  GString *out = g_string_new (NULL);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (out, "%02x", data[i]);
  return g_string_free (out, FALSE);
}

/* Random byte-level mutations of a valid signature: every changed signature is refused with
 * SB_ERROR_BAD_SIGNATURE (no scheme here is malleable through OpenSSL: DER must be canonical,
 * ed25519 S must be reduced). */
static void
test_verify_mutated_signatures (Fixture *f, gconstpointer data)
{
  g_autoptr (SbKey) ed = load_key ("ed25519", "ed25519", ed_pub);
  g_autoptr (SbKey) ec = load_key ("ecdsa", "ecdsa-sha2-nistp256", ec_pub_pem);
  g_autoptr (SbKey) rsa = load_key ("rsa", "rsassa-pss-sha256", rsa_pub_pem);
  SbKey *keys[] = { ed, ec, rsa };
  const char *sigs[] = { ed_sig, ec_sig, rsa_sig };
  g_autoptr (GRand) rand = g_rand_new_with_seed (4242);

  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      gsize len = 0;
      g_autofree guint8 *orig = decode_hex (sigs[k], &len);
      for (int round = 0; round < 300; round++)
        {
          g_autofree guint8 *buf = g_malloc (len + 2);
          gsize n = len;
          memcpy (buf, orig, len);
          switch (g_rand_int_range (rand, 0, 4))
            {
            case 0:
              buf[g_rand_int_range (rand, 0, (gint32) n)] ^=
                  (guint8) g_rand_int_range (rand, 1, 256);
              break;
            case 1:
              n = (gsize) g_rand_int_range (rand, 1, (gint32) n);
              break;
            case 2:
              buf[n++] = (guint8) g_rand_int_range (rand, 0, 256);
              break;
            default:
              buf[g_rand_int_range (rand, 0, (gint32) n)] = 0;
              break;
            }
          if (n == len && memcmp (buf, orig, len) == 0)
            continue;
          g_autofree char *hex = encode_hex (buf, n);
          assert_bad_signature (keys[k], kat_message, hex);
        }
    }
}

static char *
hex_to_base64 (const char *hex)
{
  gsize len = 0;
  g_autofree guint8 *raw = decode_hex (hex, &len);
  return g_base64_encode (raw, len);
}

/* aktualizr and OTA Community Edition sign metadata with base64 signatures: each scheme
 * verifies them, and base64 is read strictly. */
static void
test_verify_base64_signatures (Fixture *f, gconstpointer data)
{
  g_autoptr (SbKey) ed = load_key ("ed25519", "ed25519", ed_pub);
  g_autoptr (SbKey) ec = load_key ("ecdsa", "ecdsa-sha2-nistp256", ec_pub_pem);
  g_autoptr (SbKey) rsa = load_key ("rsa", "rsassa-pss-sha256", rsa_pub_pem);
  g_autofree char *ed_b64 = hex_to_base64 (ed_sig);
  g_autofree char *ec_b64 = hex_to_base64 (ec_sig);
  g_autofree char *rsa_b64 = hex_to_base64 (rsa_sig);

  assert_verifies (ed, kat_message, ed_b64);
  assert_verifies (ec, kat_message, ec_b64);
  assert_verifies (rsa, kat_message, rsa_b64);
  assert_bad_signature (ed, "{\"_type\":\"timestamp\",\"version\":2}", ed_b64);
  assert_bad_signature (ec, kat_message, ed_b64);

  /* 64 bytes: 86 digits and "==". */
  g_assert_cmpuint (strlen (ed_b64), ==, 88);
  g_assert_true (g_str_has_suffix (ed_b64, "=="));
  g_autofree char *flipped_hex = flip_hex (ed_sig, 10);
  g_autofree char *flipped = hex_to_base64 (flipped_hex);
  g_autofree char *unpadded = g_strndup (ed_b64, 86);
  g_autofree char *newline = g_strdup_printf ("%.44s\n%s", ed_b64, ed_b64 + 44);
  g_autofree char *url_safe = g_strdup (ed_b64);
  url_safe[3] = '-';
  g_autofree char *slash_url = g_strdup (ed_b64);
  slash_url[3] = '_';
  /* The last digit before "==" carries 2 bits of the signature and 4 unused ones. */
  g_autofree char *unused_bits = g_strdup (ed_b64);
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  unused_bits[85] = alphabet[(strchr (alphabet, ed_b64[85]) - alphabet) ^ 1];
  g_autofree char *mid_padding = g_strdup (ed_b64);
  mid_padding[40] = '=';
  g_autofree guint8 *zeros = g_malloc0 (1025);
  g_autofree char *oversized = g_base64_encode (zeros, 1025);
  const char *bad[] = { flipped, unpadded, newline, url_safe, slash_url, unused_bits,
                        mid_padding, oversized, "====", "A===", "AA==", "AAA=" };
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_bad_signature (ed, kat_message, bad[i]);
}

/* Random mutations of PEM public keys: each result is a key or a clean refusal, and a key
 * that is accepted verifies or refuses cleanly (run under ASan, this is a small fuzzer). */
static void
test_key_mutated_pem (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *keytype, *scheme, *pem, *sig;
  } keys[] = {
    { "ecdsa", "ecdsa-sha2-nistp256", ec_pub_pem, ec_sig },
    { "rsa", "rsassa-pss-sha256", rsa_pub_pem, rsa_sig },
  };
  static const char alphabet[] = "ABCabc019+/=-\n ";
  g_autoptr (GRand) rand = g_rand_new_with_seed (99);
  guint accepted = 0;

  for (gsize k = 0; k < G_N_ELEMENTS (keys); k++)
    for (int round = 0; round < 500; round++)
      {
        g_autofree char *pem = g_strdup (keys[k].pem);
        gsize len = strlen (pem);
        gsize at = (gsize) g_rand_int_range (rand, 0, (gint32) len);
        if (g_rand_boolean (rand))
          pem[at] = alphabet[g_rand_int_range (rand, 0, sizeof alphabet - 1)];
        else
          pem[at] = '\0';
        g_autoptr (GError) error = NULL;
        g_autoptr (JsonNode) node = key_object (keys[k].keytype, keys[k].scheme, pem);
        g_autoptr (SbKey) key = sb_key_new_from_json (node, &error);
        if (key == NULL)
          {
            g_assert_nonnull (error);
            g_assert_true (error->domain == SB_ERROR);
            g_assert_true (error->code == SB_ERROR_PARSE || error->code == SB_ERROR_UNSUPPORTED);
            continue;
          }
        g_assert_no_error (error);
        accepted++;
        /* Some mutations keep the key (a truncated trailer, unused base64 bits). */
        gboolean ok = sb_key_verify (key, (const guint8 *) kat_message, strlen (kat_message),
                                     keys[k].sig, &error);
        if (!ok)
          g_assert_error (error, SB_ERROR, SB_ERROR_BAD_SIGNATURE);
      }
  g_assert_cmpuint (accepted, >, 0);
}

/* ---- signers ---- */

static void
test_sign_round_trip (Fixture *f, gconstpointer data)
{
  SbKeyType type = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSigner) signer = sb_signer_generate (type, &error);
  g_assert_no_error (error);
  SbKey *public = sb_signer_get_public (signer);
  g_assert_cmpint (sb_key_get_key_type (public), ==, type);
  g_assert_cmpuint (strlen (sb_key_get_keyid (public)), ==, 64);

  const char *msg = "{\"signed\":{\"version\":7}}";
  g_autofree char *sig = sb_signer_sign (signer, (const guint8 *) msg, strlen (msg), &error);
  g_assert_no_error (error);
  assert_verifies (public, msg, sig);

  /* The verifier sees the key as a metadata file carries it: written out and parsed back. */
  g_autoptr (JsonNode) node = sb_key_to_json (public);
  g_autofree char *text = sb_json_pretty (node);
  g_autoptr (JsonNode) parsed = sb_json_parse ((const guint8 *) text, strlen (text), &error);
  g_assert_no_error (error);
  g_autoptr (SbKey) verifier = sb_key_new_from_json (parsed, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_key_get_keyid (verifier), ==, sb_key_get_keyid (public));
  assert_verifies (verifier, msg, sig);

  /* Tampered data, a tampered signature and another key are all refused. */
  assert_bad_signature (verifier, "{\"signed\":{\"version\":8}}", sig);
  assert_bad_signature (verifier, "", sig);
  g_autofree char *flipped = flip_hex (sig, strlen (sig) / 4);
  assert_bad_signature (verifier, msg, flipped);
  g_autoptr (SbSigner) other = sb_signer_generate (type, &error);
  g_assert_no_error (error);
  assert_bad_signature (sb_signer_get_public (other), msg, sig);
  g_assert_cmpstr (sb_key_get_keyid (sb_signer_get_public (other)), !=,
                   sb_key_get_keyid (public));

  /* Empty data can be signed too. */
  g_autofree char *empty_sig = sb_signer_sign (signer, NULL, 0, &error);
  g_assert_no_error (error);
  g_assert_true (sb_key_verify (verifier, NULL, 0, empty_sig, &error));
  g_assert_no_error (error);
}

static void
test_sign_save_load (Fixture *f, gconstpointer data)
{
  SbKeyType type = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSigner) signer = sb_signer_generate (type, &error);
  g_assert_no_error (error);
  g_autofree char *path = g_build_filename (f->dir, "ecu.pem", NULL);
  g_assert_true (sb_signer_save (signer, path, &error));
  g_assert_no_error (error);

  struct stat st;
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  g_autofree char *contents = NULL;
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_true (g_str_has_prefix (contents, "-----BEGIN PRIVATE KEY-----\n"));

  g_autoptr (SbSigner) loaded = sb_signer_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_key_get_keyid (sb_signer_get_public (loaded)), ==,
                   sb_key_get_keyid (sb_signer_get_public (signer)));
  g_autofree char *sig = sb_signer_sign (loaded, (const guint8 *) "m", 1, &error);
  g_assert_no_error (error);
  assert_verifies (sb_signer_get_public (signer), "m", sig);

  /* Saving again replaces the file in place of appending to it. */
  g_autoptr (SbSigner) second = sb_signer_generate (type, &error);
  g_assert_no_error (error);
  g_assert_true (sb_signer_save (second, path, &error));
  g_assert_no_error (error);
  g_autoptr (SbSigner) reloaded = sb_signer_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (sb_key_get_keyid (sb_signer_get_public (reloaded)), ==,
                   sb_key_get_keyid (sb_signer_get_public (second)));
}

static void
test_signer_refuse (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *pem;
    SbErrorCode code;
  } cases[] = {
    { "", SB_ERROR_PARSE },
    { "garbage", SB_ERROR_PARSE },
    { "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", SB_ERROR_PARSE },
    { ec_pub_pem, SB_ERROR_PARSE },
    /* Never a passphrase prompt: an encrypted key is simply not readable. */
    { rsa2048_encrypted_pem, SB_ERROR_PARSE },
    { p384_priv_pem, SB_ERROR_UNSUPPORTED },
    { ed448_priv_pem, SB_ERROR_UNSUPPORTED },
    { rsa1024_priv_pem, SB_ERROR_UNSUPPORTED },
  };
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (SbSigner) signer =
          sb_signer_new_from_pem (cases[i].pem, strlen (cases[i].pem), &error);
      g_assert_null (signer);
      g_assert_error (error, SB_ERROR, (int) cases[i].code);
    }

  g_autoptr (GError) error = NULL;
  g_autofree char *missing = g_build_filename (f->dir, "missing.pem", NULL);
  g_assert_null (sb_signer_load (missing, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_autofree char *junk = g_build_filename (f->dir, "junk.pem", NULL);
  g_assert_true (g_file_set_contents (junk, "not a key\n", -1, NULL));
  g_assert_null (sb_signer_load (junk, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
}

/* ---- hashes ---- */

static const char sha256_abc[] = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
static const char sha512_abc[] =
    "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
    "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";
static const char sha256_empty[] =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

static void
test_hash_known_answers (Fixture *f, gconstpointer data)
{
  g_autofree char *a256 = sb_sha256_hex ("abc", 3);
  g_autofree char *a512 = sb_sha512_hex ("abc", 3);
  g_autofree char *e256 = sb_sha256_hex (NULL, 0);
  g_assert_cmpstr (a256, ==, sha256_abc);
  g_assert_cmpstr (a512, ==, sha512_abc);
  g_assert_cmpstr (e256, ==, sha256_empty);

  g_autoptr (SbHasher) h = sb_hasher_new (SB_HASH_SHA256 | SB_HASH_SHA512);
  sb_hasher_update (h, "a", 1);
  sb_hasher_update (h, "", 0);
  sb_hasher_update (h, "bc", 2);
  g_assert_cmpstr (sb_hasher_get_hex (h, SB_HASH_SHA256), ==, sha256_abc);
  g_assert_cmpstr (sb_hasher_get_hex (h, SB_HASH_SHA512), ==, sha512_abc);
  /* Finishing is idempotent. */
  g_assert_cmpstr (sb_hasher_get_hex (h, SB_HASH_SHA256), ==, sha256_abc);

  g_autoptr (SbHasher) only = sb_hasher_new (SB_HASH_SHA256);
  g_assert_cmpstr (sb_hasher_get_hex (only, SB_HASH_SHA256), ==, sha256_empty);
  /* An algorithm that was not requested (or none) has no digest. */
  g_assert_null (sb_hasher_get_hex (only, SB_HASH_SHA512));
  g_assert_null (sb_hasher_get_hex (only, 0));
  g_assert_null (sb_hasher_get_hex (h, SB_HASH_SHA256 | SB_HASH_SHA512));
}

static GBytes *
pseudo_random_bytes (gsize len, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  guint8 *buf = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    buf[i] = (guint8) g_rand_int (rand);
  return g_bytes_new_take (buf, len);
}

static void
test_hash_streaming_equals_one_shot (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pseudo_random_bytes (1 << 20, 7);
  gsize len = 0;
  const guint8 *buf = g_bytes_get_data (bytes, &len);
  g_autofree char *one256 = sb_sha256_hex (buf, len);
  g_autofree char *one512 = sb_sha512_hex (buf, len);

  g_autoptr (GRand) rand = g_rand_new_with_seed (11);
  g_autoptr (SbHasher) h = sb_hasher_new (SB_HASH_SHA256 | SB_HASH_SHA512);
  for (gsize off = 0; off < len;)
    {
      gsize n = (gsize) g_rand_int_range (rand, 0, 70000);
      n = MIN (n, len - off);
      sb_hasher_update (h, buf + off, n);
      off += n;
    }
  g_assert_cmpstr (sb_hasher_get_hex (h, SB_HASH_SHA256), ==, one256);
  g_assert_cmpstr (sb_hasher_get_hex (h, SB_HASH_SHA512), ==, one512);
}

static void
test_hash_copy_mid_stream (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pseudo_random_bytes (100000, 3);
  gsize len = 0;
  const guint8 *buf = g_bytes_get_data (bytes, &len);
  g_autofree char *whole256 = sb_sha256_hex (buf, len);
  g_autofree char *whole512 = sb_sha512_hex (buf, len);

  /* A checkpoint taken halfway resumes to the same digest as the original, independently. */
  g_autoptr (SbHasher) h = sb_hasher_new (SB_HASH_SHA256 | SB_HASH_SHA512);
  sb_hasher_update (h, buf, len / 2);
  g_autoptr (SbHasher) checkpoint = sb_hasher_copy (h);
  sb_hasher_update (h, "diverge", 7);
  sb_hasher_update (checkpoint, buf + len / 2, len - len / 2);
  g_assert_cmpstr (sb_hasher_get_hex (checkpoint, SB_HASH_SHA256), ==, whole256);
  g_assert_cmpstr (sb_hasher_get_hex (checkpoint, SB_HASH_SHA512), ==, whole512);
  g_assert_cmpstr (sb_hasher_get_hex (h, SB_HASH_SHA256), !=, whole256);

  /* A copy of a finished hasher reports the same digests. */
  g_autoptr (SbHasher) done = sb_hasher_copy (checkpoint);
  g_assert_cmpstr (sb_hasher_get_hex (done, SB_HASH_SHA256), ==, whole256);
  g_assert_cmpstr (sb_hasher_get_hex (done, SB_HASH_SHA512), ==, whole512);
}

static void
test_hash_algo_names (Fixture *f, gconstpointer data)
{
  g_assert_cmpint (sb_hash_algo_from_name ("sha256"), ==, SB_HASH_SHA256);
  g_assert_cmpint (sb_hash_algo_from_name ("sha512"), ==, SB_HASH_SHA512);
  g_assert_cmpint (sb_hash_algo_from_name ("SHA256"), ==, 0);
  g_assert_cmpint (sb_hash_algo_from_name ("md5"), ==, 0);
  g_assert_cmpint (sb_hash_algo_from_name (""), ==, 0);
  g_assert_cmpstr (sb_hash_algo_name (SB_HASH_SHA256), ==, "sha256");
  g_assert_cmpstr (sb_hash_algo_name (SB_HASH_SHA512), ==, "sha512");
  g_assert_null (sb_hash_algo_name (SB_HASH_SHA256 | SB_HASH_SHA512));
}

static void
test_hex_digest_equal (Fixture *f, gconstpointer data)
{
  g_autofree char *upper = g_ascii_strup (sha256_abc, -1);
  g_autofree char *last = g_strdup (sha256_abc);
  last[63] = 'e';
  g_autofree char *non_hex = g_strdup (sha256_abc);
  non_hex[0] = 'x';

  g_assert_true (sb_hex_digest_equal (sha256_abc, sha256_abc));
  g_assert_true (sb_hex_digest_equal (sha256_abc, upper));
  g_assert_true (sb_hex_digest_equal (sha512_abc, sha512_abc));
  g_assert_false (sb_hex_digest_equal (sha256_abc, last));
  g_assert_false (sb_hex_digest_equal (sha256_abc, sha256_empty));
  g_assert_false (sb_hex_digest_equal (sha256_abc, sha512_abc));
  g_assert_false (sb_hex_digest_equal (sha256_abc, "ba7816bf"));
  g_assert_false (sb_hex_digest_equal ("", ""));
  g_assert_false (sb_hex_digest_equal (non_hex, non_hex));
  g_assert_false (sb_hex_digest_equal ("zz", "zz"));
  g_assert_false (sb_hex_digest_equal (sha256_abc, NULL));
  g_assert_false (sb_hex_digest_equal (NULL, NULL));
}

static void
test_hash_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (f->dir, "blob", NULL);
  g_autofree guint8 *blob = g_malloc (3 * 1024 * 1024 + 7);
  for (gsize i = 0; i < 3 * 1024 * 1024 + 7; i++)
    blob[i] = (guint8) (i * 31 + 7);
  g_assert_true (g_file_set_contents (path, (const char *) blob, 3 * 1024 * 1024 + 7, NULL));

  g_autoptr (SbHasher) h = sb_hasher_new (SB_HASH_SHA256);
  guint64 len = 0;
  g_assert_true (sb_hasher_update_file (h, path, G_MAXUINT64, &len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (len, ==, 3 * 1024 * 1024 + 7);
  g_autofree char *want = sb_sha256_hex (blob, 3 * 1024 * 1024 + 7);
  g_assert_cmpstr (sb_hasher_get_hex (h, SB_HASH_SHA256), ==, want);

  /* A file longer than allowed cannot match what metadata describes. */
  g_autoptr (SbHasher) h2 = sb_hasher_new (SB_HASH_SHA256);
  g_assert_false (sb_hasher_update_file (h2, path, 1024, &len, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_LENGTH_MISMATCH);
  g_clear_error (&error);

  g_autofree char *missing = g_build_filename (f->dir, "missing", NULL);
  g_autoptr (SbHasher) h3 = sb_hasher_new (SB_HASH_SHA256);
  g_assert_false (sb_hasher_update_file (h3, missing, 10, &len, &error));
  g_assert_error (error, SB_ERROR, SB_ERROR_NOT_FOUND);
}

/* aktualizr / OTA Community Edition spell keys {"keytype": "ED25519", "keyval": {...}} with no
 * scheme and upper-case hex; only that spelling may omit the scheme. */
static void
test_ota_ce_key_spelling (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (SbSigner) signer = sb_signer_generate (SB_KEY_TYPE_ED25519, &error);
  g_assert_no_error (error);
  JsonNode *pub_json = sb_key_to_json (sb_signer_get_public (signer));
  const char *hex = json_object_get_string_member (
      json_object_get_object_member (json_node_get_object (pub_json), "keyval"), "public");
  g_autofree char *upper = g_ascii_strup (hex, -1);
  json_node_unref (pub_json);

  g_autofree char *doc = g_strdup_printf (
      "{\"keytype\": \"ED25519\", \"keyval\": {\"public\": \"%s\"}}", upper);
  g_autoptr (JsonNode) node = sb_json_parse ((const guint8 *) doc, strlen (doc), &error);
  g_assert_no_error (error);
  g_autoptr (SbKey) key = sb_key_new_from_json (node, &error);
  g_assert_no_error (error);
  g_assert_cmpint (sb_key_get_key_type (key), ==, SB_KEY_TYPE_ED25519);
  const guint8 msg[] = "signed part";
  g_autofree char *sig = sb_signer_sign (signer, msg, sizeof msg, &error);
  g_assert_no_error (error);
  g_assert_true (sb_key_verify (key, msg, sizeof msg, sig, &error));
  g_assert_no_error (error);

  /* Lower-case TUF spelling without a scheme is still malformed. */
  g_autofree char *tuf = g_strdup_printf (
      "{\"keytype\": \"ed25519\", \"keyval\": {\"public\": \"%s\"}}", hex);
  g_autoptr (JsonNode) node2 = sb_json_parse ((const guint8 *) tuf, strlen (tuf), &error);
  g_assert_no_error (error);
  g_autoptr (SbKey) key2 = sb_key_new_from_json (node2, &error);
  g_assert_null (key2);
  g_assert_error (error, SB_ERROR, SB_ERROR_PARSE);
  g_clear_error (&error);

  /* An upper-case keytype with a scheme is not ours to reinterpret. */
  g_autofree char *mixed = g_strdup_printf (
      "{\"keytype\": \"ED25519\", \"scheme\": \"ed25519\", \"keyval\": {\"public\": \"%s\"}}",
      hex);
  g_autoptr (JsonNode) node3 = sb_json_parse ((const guint8 *) mixed, strlen (mixed), &error);
  g_assert_no_error (error);
  g_autoptr (SbKey) key3 = sb_key_new_from_json (node3, &error);
  g_assert_null (key3);
  g_assert_error (error, SB_ERROR, SB_ERROR_UNSUPPORTED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
#define ADD_TYPE(path, type, fn) \
  g_test_add (path, Fixture, GINT_TO_POINTER (type), setup, fn, teardown)
  ADD ("/crypto/known-answer/ed25519-python-signature", test_kat_ed25519);
  ADD ("/crypto/known-answer/ecdsa-python-signature", test_kat_ecdsa);
  ADD ("/crypto/known-answer/rsa-pss-python-signature-any-salt", test_kat_rsa_pss);
  ADD ("/crypto/known-answer/signer-matches-python", test_kat_signers_match_python);
  ADD ("/crypto/key/keyid-ignores-extra-fields", test_keyid_ignores_extra_fields);
  ADD ("/crypto/key/refuse/malformed-object", test_key_refuse_malformed_objects);
  ADD ("/crypto/key/refuse/unsupported-scheme", test_key_refuse_unsupported_schemes);
  ADD ("/crypto/key/refuse/bad-public-value", test_key_refuse_bad_public_values);
  ADD ("/crypto/key/refuse/rsa-size", test_key_refuse_rsa_sizes);
  ADD ("/crypto/verify/refuse-malformed-signature", test_verify_refuse_malformed_signatures);
  ADD ("/crypto/verify/refuse-mutated-signature", test_verify_mutated_signatures);
  ADD ("/crypto/verify/base64-signature", test_verify_base64_signatures);
  ADD ("/crypto/key/mutated-pem-never-crashes", test_key_mutated_pem);
  ADD_TYPE ("/crypto/sign/round-trip/ed25519", SB_KEY_TYPE_ED25519, test_sign_round_trip);
  ADD_TYPE ("/crypto/sign/round-trip/ecdsa", SB_KEY_TYPE_ECDSA, test_sign_round_trip);
  ADD_TYPE ("/crypto/sign/round-trip/rsa", SB_KEY_TYPE_RSA, test_sign_round_trip);
  ADD_TYPE ("/crypto/sign/save-load/ed25519", SB_KEY_TYPE_ED25519, test_sign_save_load);
  ADD_TYPE ("/crypto/sign/save-load/ecdsa", SB_KEY_TYPE_ECDSA, test_sign_save_load);
  ADD_TYPE ("/crypto/sign/save-load/rsa", SB_KEY_TYPE_RSA, test_sign_save_load);
  ADD ("/crypto/sign/refuse-bad-private-key", test_signer_refuse);
  ADD ("/crypto/hash/known-answers", test_hash_known_answers);
  ADD ("/crypto/hash/streaming-equals-one-shot", test_hash_streaming_equals_one_shot);
  ADD ("/crypto/hash/copy-mid-stream", test_hash_copy_mid_stream);
  ADD ("/crypto/hash/file-bounded-and-capped", test_hash_file);
  ADD ("/crypto/key/ota-ce-spelling-without-scheme", test_ota_ce_key_spelling);
  ADD ("/crypto/hash/algo-names", test_hash_algo_names);
  ADD ("/crypto/hash/hex-digest-equal-case-insensitive", test_hex_digest_equal);
#undef ADD_TYPE
#undef ADD

  return g_test_run ();
}
