# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_social_global_optspecs
    string join \n project= state= color= v/verbose q/quiet h/help V/version
end

function __fish_social_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_social_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_social_using_subcommand
    set -l cmd (__fish_social_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c social -n "__fish_social_needs_command" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_needs_command" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_needs_command" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_needs_command" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_needs_command" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_needs_command" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_needs_command" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_needs_command" -f -a "init" -d 'Create a project: social.toml, posts/ with an example post, .gitignore'
complete -c social -n "__fish_social_needs_command" -f -a "new" -d 'Create posts/<date>-<slug>.md with a stable id (as a draft)'
complete -c social -n "__fish_social_needs_command" -f -a "validate" -d 'Check posts: frontmatter, times, accounts, media and each platform\'s limits'
complete -c social -n "__fish_social_needs_command" -f -a "preview" -d 'Show what each account will receive: text of every part, length of the limit, media, problems'
complete -c social -n "__fish_social_needs_command" -f -a "post" -d 'Publish posts now, ignoring their `at` (a target already posted is skipped)'
complete -c social -n "__fish_social_needs_command" -f -a "publish" -d 'Publish every target that is due, then exit (for cron and CI)'
complete -c social -n "__fish_social_needs_command" -f -a "schedule" -d 'Sync post files into the state store and show what is scheduled'
complete -c social -n "__fish_social_needs_command" -f -a "daemon" -d 'Run in the foreground: publish posts when they are due, re-reading files as they change'
complete -c social -n "__fish_social_needs_command" -f -a "status" -d 'Show where each target (post × account) stands: status, time, attempts, errors, URLs'
complete -c social -n "__fish_social_needs_command" -f -a "cancel" -d 'Stop a post from being published (all accounts, or one)'
complete -c social -n "__fish_social_needs_command" -f -a "retry" -d 'Put failed, unconfirmed or cancelled targets back on the schedule'
complete -c social -n "__fish_social_needs_command" -f -a "delete" -d 'Delete a published post from its accounts (every part, last first)'
complete -c social -n "__fish_social_needs_command" -f -a "edit" -d 'Edit a published post to match its file, where the platform can edit'
complete -c social -n "__fish_social_needs_command" -f -a "queue" -d 'Show queues and which post fills each upcoming slot'
complete -c social -n "__fish_social_needs_command" -f -a "state" -d 'Maintain the state store'
complete -c social -n "__fish_social_needs_command" -f -a "accounts" -d 'Log in to accounts, list them, check and renew their credentials'
complete -c social -n "__fish_social_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c social -n "__fish_social_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c social -n "__fish_social_using_subcommand init" -l timezone -d 'Timezone for times written without one (default: this machine\'s)' -r
complete -c social -n "__fish_social_using_subcommand init" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand init" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand init" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand init" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand init" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand init" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand init" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand new" -l at -d 'When to publish' -r
complete -c social -n "__fish_social_using_subcommand new" -l to -d 'Accounts to publish to, comma-separated' -r
complete -c social -n "__fish_social_using_subcommand new" -l queue -d 'Queue to join instead of a fixed time' -r
complete -c social -n "__fish_social_using_subcommand new" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand new" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand new" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand new" -l ready -d 'Write `status: ready` (publish at its time) instead of a draft'
complete -c social -n "__fish_social_using_subcommand new" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand new" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand new" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand new" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand validate" -l format -d 'Output format' -r -f -a "text\t'`path:line:column: severity: message`'
json\t'One JSON document'
github\t'GitHub Actions workflow commands (annotations)'"
complete -c social -n "__fish_social_using_subcommand validate" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand validate" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand validate" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand validate" -l json -d 'The same as `--format json`'
complete -c social -n "__fish_social_using_subcommand validate" -l strict -d 'Treat warnings as errors'
complete -c social -n "__fish_social_using_subcommand validate" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand validate" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand validate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c social -n "__fish_social_using_subcommand validate" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand preview" -l to -d 'Only these accounts, comma-separated (default: the post\'s own targets)' -r
complete -c social -n "__fish_social_using_subcommand preview" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand preview" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand preview" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand preview" -l json -d 'Print JSON instead of text'
complete -c social -n "__fish_social_using_subcommand preview" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand preview" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand preview" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand preview" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand post" -l to -d 'Publish to these accounts instead of the post\'s own, comma-separated' -r
complete -c social -n "__fish_social_using_subcommand post" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand post" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand post" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand post" -l dry-run -d 'Show the requests that would be sent, and send nothing'
complete -c social -n "__fish_social_using_subcommand post" -l json -d 'Print the results as JSON'
complete -c social -n "__fish_social_using_subcommand post" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand post" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand post" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand post" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand publish" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand publish" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand publish" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand publish" -l due -d 'Publish what is due now (required: says what this run does)'
complete -c social -n "__fish_social_using_subcommand publish" -l json -d 'Print the results as JSON'
complete -c social -n "__fish_social_using_subcommand publish" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand publish" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand publish" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand publish" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand schedule" -l limit -d 'Show at most this many rows' -r
complete -c social -n "__fish_social_using_subcommand schedule" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand schedule" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand schedule" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand schedule" -l json -d 'Print JSON instead of a table'
complete -c social -n "__fish_social_using_subcommand schedule" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand schedule" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand schedule" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand schedule" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand daemon" -l log-format -d 'Log format' -r -f -a "text\t'Human-readable lines'
json\t'One JSON object per line'"
complete -c social -n "__fish_social_using_subcommand daemon" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand daemon" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand daemon" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand daemon" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand daemon" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand daemon" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c social -n "__fish_social_using_subcommand daemon" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand status" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand status" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand status" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand status" -l json -d 'Print JSON instead of a table'
complete -c social -n "__fish_social_using_subcommand status" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand status" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand status" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand status" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand cancel" -l to -d 'Only this account' -r
complete -c social -n "__fish_social_using_subcommand cancel" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand cancel" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand cancel" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand cancel" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand cancel" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand cancel" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand cancel" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand retry" -l to -d 'Only this account' -r
complete -c social -n "__fish_social_using_subcommand retry" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand retry" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand retry" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand retry" -l force -d 'Also publish again a post that was deleted (`social delete`, a withdrawn file): a new post on the platform, with new links'
complete -c social -n "__fish_social_using_subcommand retry" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand retry" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand retry" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand retry" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand delete" -l to -d 'Only these accounts, comma-separated (default: every account it was published to)' -r
complete -c social -n "__fish_social_using_subcommand delete" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand delete" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand delete" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand delete" -l dry-run -d 'Show the requests that would be sent, and send nothing'
complete -c social -n "__fish_social_using_subcommand delete" -s y -l yes -d 'Do not ask for confirmation (required when not on a terminal)'
complete -c social -n "__fish_social_using_subcommand delete" -l json -d 'Print the results as JSON'
complete -c social -n "__fish_social_using_subcommand delete" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand delete" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand delete" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand delete" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand edit" -l to -d 'Only these accounts, comma-separated (default: every account it was published to)' -r
complete -c social -n "__fish_social_using_subcommand edit" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand edit" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand edit" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand edit" -l dry-run -d 'Show the requests that would be sent, and send nothing'
complete -c social -n "__fish_social_using_subcommand edit" -s y -l yes -d 'Do not ask for confirmation (required when not on a terminal)'
complete -c social -n "__fish_social_using_subcommand edit" -l force -d 'Also edit where that changes a post others may have replied to or quoted (Bluesky)'
complete -c social -n "__fish_social_using_subcommand edit" -l repost -d 'Where the platform cannot make the edit, delete the post there and publish the file again as a new post (both confirmed together)'
complete -c social -n "__fish_social_using_subcommand edit" -l json -d 'Print the results as JSON'
complete -c social -n "__fish_social_using_subcommand edit" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand edit" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand edit" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand edit" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -f -a "list" -d 'Every queue: timezone, accounts, slots per week, posts waiting, next slot'
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -f -a "show" -d 'A queue\'s upcoming slots and the post that fills each'
complete -c social -n "__fish_social_using_subcommand queue; and not __fish_seen_subcommand_from list show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from list" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from list" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from list" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from list" -l json -d 'Print JSON instead of a table'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from show" -l slots -d 'How many slots to show (default: every waiting post plus three free slots)' -r
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from show" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from show" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from show" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from show" -l json -d 'Print JSON instead of a table'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from show" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from show" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "list" -d 'Every queue: timezone, accounts, slots per week, posts waiting, next slot'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "show" -d 'A queue\'s upcoming slots and the post that fills each'
complete -c social -n "__fish_social_using_subcommand queue; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c social -n "__fish_social_using_subcommand state; and not __fish_seen_subcommand_from rebuild help" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand state; and not __fish_seen_subcommand_from rebuild help" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand state; and not __fish_seen_subcommand_from rebuild help" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand state; and not __fish_seen_subcommand_from rebuild help" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand state; and not __fish_seen_subcommand_from rebuild help" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand state; and not __fish_seen_subcommand_from rebuild help" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand state; and not __fish_seen_subcommand_from rebuild help" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand state; and not __fish_seen_subcommand_from rebuild help" -f -a "rebuild" -d 'Recreate the store from the post files and published.toml'
complete -c social -n "__fish_social_using_subcommand state; and not __fish_seen_subcommand_from rebuild help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c social -n "__fish_social_using_subcommand state; and __fish_seen_subcommand_from rebuild" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand state; and __fish_seen_subcommand_from rebuild" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand state; and __fish_seen_subcommand_from rebuild" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand state; and __fish_seen_subcommand_from rebuild" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand state; and __fish_seen_subcommand_from rebuild" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand state; and __fish_seen_subcommand_from rebuild" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c social -n "__fish_social_using_subcommand state; and __fish_seen_subcommand_from rebuild" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "rebuild" -d 'Recreate the store from the post files and published.toml'
complete -c social -n "__fish_social_using_subcommand state; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -f -a "add" -d 'Log in to an account: its settings go into social.toml, its secret into the OS keyring'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -f -a "list" -d 'Show each account: where its credential comes from, when it expires, its last check'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -f -a "check" -d 'Ask each platform who the credential belongs to'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -f -a "remove" -d 'Remove an account from social.toml and delete its secrets'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -f -a "refresh" -d 'Renew tokens now (X, LinkedIn with a refresh token, Instagram)'
complete -c social -n "__fish_social_using_subcommand accounts; and not __fish_seen_subcommand_from add list check remove refresh help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l platform -d 'bluesky, mastodon, x, linkedin or instagram (default: the account\'s, when it exists)' -r
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l service -d 'Bluesky: the PDS (default https://bsky.social)' -r
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l instance -d 'Mastodon: the instance, such as https://hachyderm.io' -r
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l api-url -d 'X, LinkedIn, Instagram: the API base URL (default: the platform\'s)' -r
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l handle -d 'Bluesky: the handle, such as alice.bsky.social' -r
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l client-id -d 'X, LinkedIn: your app\'s OAuth client id' -r
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l timeout -d 'How long to wait for the browser\'s answer to an OAuth login' -r
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l redirect-port -d 'The loopback port of the OAuth redirect (default: a free one)' -r
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l password-stdin -d 'Bluesky: read the app password from standard input'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l token-stdin -d 'Mastodon, LinkedIn, Instagram: read an existing access token from standard input'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l client-secret-stdin -d 'X, LinkedIn: read the app\'s client secret from standard input'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l insecure-storage -d 'Keep the secret in a plain file only you can read, instead of the OS keyring'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -l no-browser -d 'Do not open a browser; only print the login URL'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from list" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from list" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from list" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from list" -l json -d 'Print JSON'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from list" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from check" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from check" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from check" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from check" -l json -d 'Print JSON'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from check" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from check" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from remove" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from remove" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from remove" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from refresh" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from refresh" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from refresh" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from refresh" -l json -d 'Print JSON'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from refresh" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from refresh" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from refresh" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from refresh" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from help" -f -a "add" -d 'Log in to an account: its settings go into social.toml, its secret into the OS keyring'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from help" -f -a "list" -d 'Show each account: where its credential comes from, when it expires, its last check'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from help" -f -a "check" -d 'Ask each platform who the credential belongs to'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove an account from social.toml and delete its secrets'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from help" -f -a "refresh" -d 'Renew tokens now (X, LinkedIn with a refresh token, Instagram)'
complete -c social -n "__fish_social_using_subcommand accounts; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c social -n "__fish_social_using_subcommand completions" -l project -d 'Project directory (default: the nearest directory above holding social.toml)' -r -F
complete -c social -n "__fish_social_using_subcommand completions" -l state -d 'State store file (default: .social/state.redb in the project)' -r -F
complete -c social -n "__fish_social_using_subcommand completions" -l color -d 'When to use colors (NO_COLOR is honoured)' -r -f -a "auto\t''
always\t''
never\t''"
complete -c social -n "__fish_social_using_subcommand completions" -s v -l verbose -d 'Say more (repeat for even more)'
complete -c social -n "__fish_social_using_subcommand completions" -s q -l quiet -d 'Say only what went wrong'
complete -c social -n "__fish_social_using_subcommand completions" -s h -l help -d 'Print help'
complete -c social -n "__fish_social_using_subcommand completions" -s V -l version -d 'Print version'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "init" -d 'Create a project: social.toml, posts/ with an example post, .gitignore'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "new" -d 'Create posts/<date>-<slug>.md with a stable id (as a draft)'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "validate" -d 'Check posts: frontmatter, times, accounts, media and each platform\'s limits'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "preview" -d 'Show what each account will receive: text of every part, length of the limit, media, problems'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "post" -d 'Publish posts now, ignoring their `at` (a target already posted is skipped)'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "publish" -d 'Publish every target that is due, then exit (for cron and CI)'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "schedule" -d 'Sync post files into the state store and show what is scheduled'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "daemon" -d 'Run in the foreground: publish posts when they are due, re-reading files as they change'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "status" -d 'Show where each target (post × account) stands: status, time, attempts, errors, URLs'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "cancel" -d 'Stop a post from being published (all accounts, or one)'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "retry" -d 'Put failed, unconfirmed or cancelled targets back on the schedule'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "delete" -d 'Delete a published post from its accounts (every part, last first)'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "edit" -d 'Edit a published post to match its file, where the platform can edit'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "queue" -d 'Show queues and which post fills each upcoming slot'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "state" -d 'Maintain the state store'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "accounts" -d 'Log in to accounts, list them, check and renew their credentials'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c social -n "__fish_social_using_subcommand help; and not __fish_seen_subcommand_from init new validate preview post publish schedule daemon status cancel retry delete edit queue state accounts completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c social -n "__fish_social_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "list" -d 'Every queue: timezone, accounts, slots per week, posts waiting, next slot'
complete -c social -n "__fish_social_using_subcommand help; and __fish_seen_subcommand_from queue" -f -a "show" -d 'A queue\'s upcoming slots and the post that fills each'
complete -c social -n "__fish_social_using_subcommand help; and __fish_seen_subcommand_from state" -f -a "rebuild" -d 'Recreate the store from the post files and published.toml'
complete -c social -n "__fish_social_using_subcommand help; and __fish_seen_subcommand_from accounts" -f -a "add" -d 'Log in to an account: its settings go into social.toml, its secret into the OS keyring'
complete -c social -n "__fish_social_using_subcommand help; and __fish_seen_subcommand_from accounts" -f -a "list" -d 'Show each account: where its credential comes from, when it expires, its last check'
complete -c social -n "__fish_social_using_subcommand help; and __fish_seen_subcommand_from accounts" -f -a "check" -d 'Ask each platform who the credential belongs to'
complete -c social -n "__fish_social_using_subcommand help; and __fish_seen_subcommand_from accounts" -f -a "remove" -d 'Remove an account from social.toml and delete its secrets'
complete -c social -n "__fish_social_using_subcommand help; and __fish_seen_subcommand_from accounts" -f -a "refresh" -d 'Renew tokens now (X, LinkedIn with a refresh token, Instagram)'
