{#- The pseudonymous key of a user: md5(<salt> || ':' || <user uuid as text>), 32 hex characters.
    The salt comes from HOMETOWN_PSEUDONYM_SALT, so keys cannot be reversed by hashing known ids
    without it; the API computes the same key to find a user's rows in the marts. -#}
{% macro pseudonym_salt() -%}
    {{ return(env_var('HOMETOWN_PSEUDONYM_SALT', 'hometown-dev-salt')) }}
{%- endmacro %}

{% macro pseudonymize(user_id_column) -%}
    md5({{ sql_literal(pseudonym_salt() ~ ':') }} || ({{ user_id_column }})::text)
{%- endmacro %}
