# Run zsh completion for real in a pty and print each candidate compadd receives.
# usage: zsh -f zsh_capture.zsh SCRIPT_FILE "line to complete" OUTPUT_FILE
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "PROMPT=''; RPROMPT=''; autoload -U compinit; compinit -u -D"
zpty -w z "source ${(q)1}; capture=${(q)3}"
zpty -w z "zstyle ':completion:*' insert-tab false; bindkey '^I' complete-word"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits
  builtin compadd -A __hits "$@"
  print -rl -- $__hits >> $capture
}'
# The quotes split the markers in the echoed input, so only the printed output matches.
zpty -w z 'print "<<REA""DY>>"'
zpty -r z line '*<<READY>>*'
zpty -w -n z "$2"$'\t'
zpty -w z $'\C-u'  # clear the line: the completed command must not run
zpty -w z 'print "<<DO""NE>>"'
zpty -r z line '*<<DONE>>*'
zpty -d z
