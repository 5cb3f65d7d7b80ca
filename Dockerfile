# Astro Runtime image for this project: `astro dev start` locally, `astro deploy` to Astro.
#
# Runtime 3.3-x is the Astro Runtime line built on Apache Airflow 3.3; we pin Airflow 3.3.2
# (requirements.txt, constraints.txt). Astronomer's public notes reachable from here list Runtime 3.3-2
# with its providers but do not state its Airflow patch version, so 3.3-2 shipping Airflow 3.3.2 is
# not confirmed: check with `docker run --rm astrocrpublic.azurecr.io/runtime:3.3-2 airflow version`
# and move the tag to the 3.3-x release whose Airflow matches requirements.txt before deploying.
FROM astrocrpublic.azurecr.io/runtime:3.3-2

# The Runtime's ONBUILD steps install packages.txt and requirements.txt and copy the project into
# /usr/local/airflow (the image's AIRFLOW_HOME). Code imports `include.datasphere_glue...` from the
# project root, and the DAG file reads rules/ from there too.
ENV PYTHONPATH=/usr/local/airflow \
    DATASPHERE_GLUE_RULES_DIR=/usr/local/airflow/rules
