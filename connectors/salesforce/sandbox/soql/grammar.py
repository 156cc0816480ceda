"""The SOQL grammar (lark, LALR) for the subset real clients send (reference §5.2, §5.3), and a bit more.

Kept as a Python string so it ships inside the package. Like Salesforce, a condition may not mix AND
and OR at one level without parentheses (``a = 1 AND b = 2 OR c = 3`` is MALFORMED_QUERY).
Keywords are case-insensitive; datetime literals are unquoted in every form clients produce
(``Z``, ``+00:00``, ``+0000``; 0, 3 or 6 fraction digits).
"""

from __future__ import annotations

from .dateliterals import N_LITERALS, NAMED_LITERALS

_TEMPLATE = r"""
start: "SELECT"i select_list "FROM"i NAME [NAME] [where] [order_by] [limit] [offset]

select_list: select_item ("," select_item)*
?select_item: field_path                              -> field_item
            | COUNT "(" [field_path] ")" [NAME]        -> count_item

field_path: NAME ("." NAME)*

where: "WHERE"i condition

?condition: and_chain | or_chain | unary
and_chain: unary ("AND"i unary)+
or_chain: unary ("OR"i unary)+
?unary: "NOT"i unary                                  -> not_
      | "(" condition ")"
      | predicate

?predicate: field_path OP value                       -> comparison
          | field_path "IN"i "(" value_list ")"       -> in_list
          | field_path "NOT"i "IN"i "(" value_list ")" -> not_in_list
          | field_path "LIKE"i value                  -> like

value_list: value ("," value)*

?value: STRING        -> string
      | NUMBER        -> number
      | DATETIME      -> datetime
      | DATE          -> date
      | DATE_N        -> date_n
      | DATE_NAMED    -> date_named
      | TRUE          -> true
      | FALSE         -> false
      | NULL          -> null

order_by: "ORDER"i "BY"i order_item ("," order_item)*
order_item: field_path [DIRECTION] [NULLS_POS]

limit: "LIMIT"i INT
offset: "OFFSET"i INT

COUNT.3: /COUNT(?=\s*\()/i
OP: "!=" | "<>" | "<=" | ">=" | "=" | "<" | ">"
DIRECTION.3: /(ASC|DESC)\b/i
NULLS_POS.3: /NULLS\s+(FIRST|LAST)\b/i
TRUE.3: /TRUE\b/i
FALSE.3: /FALSE\b/i
NULL.3: /NULL\b/i
DATETIME.5: /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})/
DATE.4: /\d{4}-\d{2}-\d{2}(?![\dT])/
NUMBER.2: /[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/
DATE_N.4: /({n_literals}):\d+/i
DATE_NAMED.4: /({named_literals})\b/i
STRING: /'(?:[^'\\]|\\.)*'/s
INT: /\d+/
NAME: /[A-Za-z_][A-Za-z0-9_]*/i

%import common.WS
%ignore WS
"""

SOQL_GRAMMAR = _TEMPLATE.replace("{n_literals}", "|".join(sorted(N_LITERALS, key=len, reverse=True))).replace(
    "{named_literals}", "|".join(sorted(NAMED_LITERALS, key=len, reverse=True)))
