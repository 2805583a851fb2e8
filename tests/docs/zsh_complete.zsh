#!/bin/zsh -f
# Completes a command line in an interactive zsh (on a pseudo-terminal) with the generated
# _parkit on fpath and prints the candidates offered, one a line; compadd is wrapped to print
# what each completion function adds (the technique of zsh-capture-completion).
# Usage: zsh_complete.zsh DIR_OF__parkit 'parkit resize --filter '   (exit 77: no zsh/zpty)
zmodload zsh/zpty || exit 77
zpty z zsh -f -i
zpty -w z "fpath=($1 \$fpath)"
zpty -w z "parkit() { :; }"
zpty -w z 'autoload -U compinit; compinit -u -D'
zpty -w z "zstyle ':completion:*' list-grouped false"
zpty -w z "zstyle ':completion:*' insert-tab false"
zpty -w z 'compadd () {
  if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return $?; fi
  typeset -a __hits; builtin compadd -A __hits "$@"; local r=$?
  (( $#__hits )) || return $r
  print -r -- "<<${(j:>>\n<<:)__hits}>>"
  builtin compadd "$@" }'
zpty -w z "null-line () { echo -E - \$'\\0' }"
zpty -w z "compprefuncs=( null-line )"
zpty -w z "comppostfuncs=( null-line exit )"
zpty -n -w z "$2"$'\t'
zpty -r z chunk $'*\0*'
zpty -r z chunk $'*\0*'
print -r -- "$chunk" | grep -a -o '<<[^>]*>>' | tr -d '<>' | sort -u
