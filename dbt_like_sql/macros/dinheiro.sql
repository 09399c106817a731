-- Money, in one place. `valor` text (decimal point or decimal comma, optional sign, no
-- thousands separators, no exponent) -> integer cents rounded half to even, computed on the
-- digits themselves so no binary float ever touches it. Null when the text is not a number or
-- the result does not fit decimal(18,2).

-- Pieces of a well-formed value: sign, integer digits, fraction digits ('' when none).
create or replace macro _valor_sinal(s) as case when starts_with(s, '-') then -1 else 1 end;
create or replace macro _valor_fracao(s) as coalesce(regexp_extract(s, '[.,]([0-9]+)$', 1), '');
create or replace macro _valor_centavos_truncados(s) as
    cast(regexp_extract(s, '([0-9]+)', 1) as hugeint) * 100
    + cast(rpad(left(_valor_fracao(s), 2), 2, '0') as hugeint);

-- Half to even on the third decimal and beyond: up if > half, or exactly half and the cent is odd.
create or replace macro _valor_arredonda(truncados, fracao) as
    truncados + case
        when substr(fracao, 3, 1) > '5' then 1
        when substr(fracao, 3, 1) = '5'
            and (regexp_matches(substr(fracao, 4), '[1-9]') or truncados % 2 = 1) then 1
        else 0
    end;

create or replace macro _valor_no_limite(centavos) as
    case when abs(centavos) <= 999999999999999999 then centavos end;

create or replace macro valor_centavos(s) as
    case
        -- Up to two decimals: nothing to round, an exact decimal cast is enough (the common case).
        -- Up to 14 integer digits the cents fit a 64-bit decimal even times 100 (cheap arithmetic);
        -- 15 or 16 go through a 128-bit one (in DuckDB, 38 digits cost ~2x the whole valor parse).
        when regexp_full_match(s, '[+-]?[0-9]{1,14}([.,][0-9]{1,2})?')
            then cast(cast(replace(s, ',', '.') as decimal(18, 2)) * 100 as bigint)
        when regexp_full_match(s, '[+-]?[0-9]{1,16}([.,][0-9]{1,2})?')
            then cast(cast(replace(s, ',', '.') as decimal(38, 2)) * 100 as bigint)
        when regexp_full_match(s, '[+-]?[0-9]+[.,][0-9]+') and length(ltrim(regexp_extract(s, '([0-9]+)', 1), '0')) <= 16
            then _valor_no_limite(
                _valor_sinal(s) * _valor_arredonda(_valor_centavos_truncados(s), _valor_fracao(s))
            )
    end;

-- Integer cents -> decimal(18,2), exactly (decimal times decimal never goes through a float).
create or replace macro centavos_para_decimal(c) as
    cast(cast(c as decimal(18, 0)) * 0.01 as decimal(18, 2));

-- The canonical text of a money value in hashes and `detalhes`: two decimals and a point.
create or replace macro valor_texto(v) as
    cast(cast(v as decimal(18, 2)) as varchar);

-- The same for a difference of two values, which needs one more integer digit (decimal(19,2)).
create or replace macro diferenca_texto(v) as
    cast(cast(v as decimal(19, 2)) as varchar);
