user: {{ secretctl://db/main/user }}
pass: {{	secretctl://db/main/password	}}
{{{ secretctl://X }}
{{ secretctl:// }}
