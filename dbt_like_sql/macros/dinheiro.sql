-- Money, in one place. `valor` text (decimal point or decimal comma, optional sign, no
-- thousands separators, no exponent) -> integer cents rounded half to even, computed on the
-- digits themselves so no binary float ever touches it. Null when the text is not a number or
-- the result does not fit decimal(18,2).
create or replace macro valor_centavos(s) as (
    with partes as (
        select
            case when starts_with(s, '-') then -1 else 1 end as sinal,
            ltrim(regexp_extract(s, '^[+-]?([0-9]+)', 1), '0') as inteiro,
            coalesce(regexp_extract(s, '[.,]([0-9]+)$', 1), '') as fracao
        where regexp_full_match(s, '[+-]?[0-9]+([.,][0-9]+)?')
    ),
    truncado as (
        select
            sinal,
            fracao,
            cast(coalesce(nullif(inteiro, ''), '0') as hugeint) * 100
                + cast(rpad(left(fracao, 2), 2, '0') as hugeint) as centavos_truncados
        from partes
        where length(inteiro) <= 16
    ),
    arredondado as (
        select
            sinal * (
                centavos_truncados
                + case
                    when substr(fracao, 3, 1) > '5' then 1
                    when substr(fracao, 3, 1) = '5'
                        and (regexp_matches(substr(fracao, 4), '[1-9]') or centavos_truncados % 2 = 1)
                        then 1
                    else 0
                end
            ) as centavos
        from truncado
    )
    select centavos from arredondado where abs(centavos) <= 999999999999999999
);

-- Integer cents -> decimal(18,2), exactly (decimal times decimal never goes through a float).
create or replace macro centavos_para_decimal(c) as
    cast(cast(c as decimal(18, 0)) * 0.01 as decimal(18, 2));

-- The canonical text of a money value in hashes and `detalhes`: two decimals and a point.
create or replace macro valor_texto(v) as
    cast(cast(v as decimal(18, 2)) as varchar);
