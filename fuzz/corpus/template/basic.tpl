url={{secretctl://db/url}} {{ other }}
