// Metron.g4 — grammar of the Metron chain language (.metron files).
//
// The grammar is deliberately flat: nothing nests more than three levels deep, so parse depth
// is bounded whatever the input (hostile inputs with 100,000 nested brackets fail at the first
// unexpected bracket instead of recursing). Semantics live in man/metron-lang.7 and
// compiler/NFIR.h; this file only fixes the shape.
grammar Metron;

file        : decl* EOF ;

decl        : importDecl
            | nfDecl
            | chainDecl
            ;

// ---- imports --------------------------------------------------------------------------------
// import classbench "path" as name;     ClassBench filter set (both published forms)
// import routes     "path" as name;     routing table (PREFIX NEXTHOP IFACE or Cisco form)
// import patterns   "path" as name;     DPI patterns (hsbench ID:/regex/flags form, or Suricata rules)
// import routes "internet2.txt" as i2 every 4;   (options: `every N` keeps entries 1, N+1, 2N+1…;
//   Suricata rules take their variables: HOME_NET "[10.0.0.0/8]")
importDecl  : 'import' kind=ident path=STRING 'as' name=ident option* ';' ;

// ---- network functions ----------------------------------------------------------------------
nfDecl      : 'nf' name=ident kind=ID? '{' nfStmt* '}' ;

nfStmt      : ruleStmt
            | rulesStmt
            | defaultStmt
            | lookupStmt
            | setStmt
            | decStmt
            | naptStmt
            | balanceStmt
            | monitorStmt
            | conntrackStmt
            | ratelimitStmt
            | dpiStmt
            | blackboxStmt
            | portsStmt
            ;

// rule deny udp dst 10.0.0.0/8 dport 53;
ruleStmt    : 'rule' action matchItem* ';' ;
// rules campus action allow;
rulesStmt   : 'rules' name=ident 'action' action ';' ;
// default deny;
defaultStmt : 'default' action ';' ;

action      : 'allow'                                   # allowAction
            | 'deny'                                    # denyAction
            | 'branch' port=ident                       # branchAction
            | 'set' '(' assign (',' assign)* ')'        # setAction
            ;
assign      : field=fieldRef '=' value ;

// A match item: a protocol keyword, a shorthand (src/dst/sport/dport), or `field value`.
matchItem   : proto=('tcp' | 'udp' | 'icmp')            # protoMatch
            | 'proto' value                             # protoNumMatch
            | 'src' value                               # srcMatch
            | 'dst' value                               # dstMatch
            | 'sport' value                             # sportMatch
            | 'dport' value                             # dportMatch
            | field=fieldRef value                      # fieldMatch
            ;

// lookup ip.dst in i2 [ports ("ae8.10" -> east, ...)] [miss deny];
lookupStmt  : 'lookup' field=fieldRef 'in' table=ident portMap? missClause? ';' ;
portMap     : 'ports' '(' portMapItem (',' portMapItem)* ')' ;
portMapItem : iface=STRING '->' port=ident ;
missClause  : 'miss' action ;

// set ip.dscp = 46;   dec ip.ttl;
setStmt     : 'set' assign (',' assign)* ';' ;
decStmt     : 'dec' field=fieldRef ';' ;

// napt ip.src to 203.0.113.1 ports 1024-65535 [timeout 60];
naptStmt    : 'napt' field=fieldRef 'to' addr=value 'ports' range=value option* ';' ;
// balance ip.dst round_robin [10.0.1.1, 10.0.1.2];
balanceStmt : 'balance' field=fieldRef policy=ID '[' value (',' value)* ']' option* ';' ;
// monitor [key (ip.src, ip.dst)] [timeout 30];
monitorStmt : 'monitor' keyList? option* ';' ;
keyList     : 'key' '(' fieldRef (',' fieldRef)* ')' ;
// conntrack [timeout 120] [strict];
conntrackStmt : 'conntrack' option* ';' ;
// ratelimit 10 mbps [key (ip.src)] [burst 64000];
ratelimitStmt : 'ratelimit' quantity keyList? option* ';' ;
// dpi snort [action alert|drop];
dpiStmt     : 'dpi' patterns=ident ('action' action)? ';' ;

// Options are `name value` or a bare `name`; the element says which it accepts.
option      : name=ID value? ;
quantity    : value unit=ID ;

// blackbox: process "cmd"; vm "image"; device "name";
blackboxStmt: what=('process' | 'vm' | 'device') STRING ';' ;
// input eth0; output eth1, alert;  (interface of a blackbox, or extra output ports)
portsStmt   : dir=('input' | 'output') ident (',' ident)* ';' # portsDecl
            | 'writes' fieldRef (',' fieldRef)* ';'       # writesDecl
            | 'strips' 'tags' ';'                         # stripsDecl
            ;

// ---- chains ---------------------------------------------------------------------------------
// chain web { in port0 -> firewall -> router -> out port1; }
chainDecl   : 'chain' name=ident '{' chainPath* '}' ;
chainPath   : endpoint ('->' endpoint)+ ';' ;
endpoint    : 'in' port=ident                              # ingressEndpoint
            | 'out' port=ident                             # egressEndpoint
            | nf=ident ('.' port=ident)?                # nfEndpoint
            ;

// ---- values ---------------------------------------------------------------------------------
// A field starts with ID, or with a protocol keyword and a dot (tcp.flags), never with a statement
// keyword, so a missing ';' before the next statement is reported as such, and `tcp udp` stays
// two protocol matches.
fieldRef    : ID ('.' ident)?
            | ('tcp' | 'udp' | 'icmp') '.' ident
            ;
// Keywords are reserved only where they start a construct: `ip.src`, `tcp.flags`, `fw.out` work.
ident       : ID | 'tcp' | 'udp' | 'icmp' | 'proto' | 'src' | 'dst' | 'sport' | 'dport' | 'in' | 'out'
            | 'allow' | 'deny' | 'branch' | 'set' | 'action' | 'default' | 'rule' | 'rules' | 'ports'
            | 'to' | 'key' | 'miss' | 'as' | 'tags' | 'writes' | 'strips' | 'input' | 'output'
            | 'process' | 'vm' | 'device' | 'lookup' | 'dec' | 'napt' | 'balance' | 'monitor'
            | 'conntrack' | 'ratelimit' | 'dpi' | 'import' | 'nf' | 'chain' ;
value       : IPV4 ('/' INT)?                           # ipValue
            | MAC                                       # macValue
            | INT ('-' INT)?                            # intValue
            | HEX ('/' HEX)?                            # hexValue
            | (ID | 'tcp' | 'udp' | 'icmp')              # nameValue  // protocol names too: ip.proto tcp
            | STRING                                    # stringValue
            ;

// ---- tokens ---------------------------------------------------------------------------------
IPV4        : OCTET '.' OCTET '.' OCTET '.' OCTET ;
MAC         : HEXD HEXD ':' HEXD HEXD ':' HEXD HEXD ':' HEXD HEXD ':' HEXD HEXD ':' HEXD HEXD ;
HEX         : '0' [xX] HEXD+ ;
INT         : [0-9]+ ;
ID          : [a-zA-Z_] [a-zA-Z_0-9]* ;
STRING      : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
WS          : [ \t\r\n\f]+ -> skip ;
LINE_COMMENT: '//' ~[\r\n]* -> skip ;
BLOCK_COMMENT: '/*' .*? '*/' -> skip ;
fragment OCTET : [0-9]+ ;
fragment HEXD  : [0-9a-fA-F] ;
