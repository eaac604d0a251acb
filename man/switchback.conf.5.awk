# Turns data/switchback.conf (every key commented out at its default, each after its
# description) into the body of switchback.conf(5), so the page and the file never disagree.
# A section header becomes .SS, a run of comment lines the description of the keys after it,
# and each "#key=value" line one .TP entry with its default.
function esc(s) {
  gsub(/\\/, "\\e", s); gsub(/-/, "\\-", s)
  if (s ~ /^[.']/) s = "\\&" s
  return s
}
function flush_keys() {
  if (nkeys == 0) return
  print ".TP"
  line = ""
  for (k = 1; k <= nkeys; k++) {
    split(keys[k], kv, "=")
    def = substr(keys[k], length(kv[1]) + 2)
    line = line (k > 1 ? ", " : "") "\\fB" esc(kv[1]) "\\fR=" (def == "" ? "(unset)" : "\\fI" esc(def) "\\fR")
  }
  print line
  print (text == "" ? "" : esc(text))
  nkeys = 0; text = ""
}
/^\[/ { started = 1; flush_keys(); print ".SS " esc($0); next }
!started { next }
/^#[a-z][a-z0-9-]*=/ { keys[++nkeys] = substr($0, 2); next }
/^# ?/ { flush_keys_pending = 1; if (nkeys > 0) flush_keys(); sub(/^# ?/, ""); text = (text == "" ? $0 : text " " $0); next }
/^$/ { if (nkeys > 0) flush_keys(); next }
END { flush_keys() }
